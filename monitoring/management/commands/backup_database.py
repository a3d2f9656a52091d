"""Back up the whole database now, as the nightly job does: dump, manifest, verify, prune."""
from django.core.management.base import BaseCommand, CommandError

from monitoring import backups
from monitoring.models import DatabaseBackup


class Command(BaseCommand):
    help = ("Dump the whole database (PostgreSQL: pg_dump of the server's version, custom format; SQLite: the "
            "online-backup API, gzip) with a manifest beside it (when, size, SHA-256, migrations, row counts), "
            "then verify the archive. Written to BACKUP_DIR unless --to DIR.")

    def add_arguments(self, parser):
        parser.add_argument("--to", metavar="DIR", help="write the archive and its manifest here instead of "
                                                        "BACKUP_DIR (kept out of the retention's deletions)")

    def handle(self, *args, to=None, **options):
        backup = backups.run(kind=DatabaseBackup.Kind.MANUAL, to=to)
        if backup.state != DatabaseBackup.State.VERIFIED:
            raise CommandError(f"backup failed: {backup.detail}")
        archive = backups.path_of(backup)
        self.stdout.write(f"{archive}\n  {backup.size_bytes:,} bytes, sha256 {backup.sha256}\n"
                          f"  manifest {backups.manifest_path(archive)}\n  verified: {backup.detail}")
