"""Where database backups live: ``settings.BACKUP_DIR``, an archive's path from its row, and the
manifest beside it. Shared by monitoring.backups (which writes them) and monitoring.offsite (which
copies them), so both name the same files."""
from pathlib import Path

from django.conf import settings

MANIFEST_SUFFIX = ".manifest.json"


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def path_of(backup) -> Path:
    """The archive's path (``file_name`` is relative to BACKUP_DIR, or absolute for ``--to DIR``)."""
    return backup_dir() / backup.file_name


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + MANIFEST_SUFFIX)

