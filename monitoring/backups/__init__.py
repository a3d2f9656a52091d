"""Database backups: a consistent dump of the whole database with a manifest beside it, verified
after writing, kept by the Backups settings' counts, and restored into an empty database.

PostgreSQL is dumped by ``pg_dump --format=custom`` of the server's own major version, inside a
snapshot the manifest's row counts are read in, so the counts describe exactly what the archive
holds. The quick start's SQLite is copied with SQLite's online-backup API and gzip-compressed.
The manifest (``<archive>.manifest.json``) holds when, size, SHA-256, the applied migrations and
the row count of every table; a restore checks the archive against it before touching anything,
and restores in one transaction, so a damaged archive leaves the target as it was.

The parts: ``tools`` (the database and the PostgreSQL tools of its version), ``dump``, ``archive``
(manifest and verification), ``job`` (Back up now, the nightly run), ``retention``, ``restore``;
the paths are monitoring.backup_paths, shared with monitoring.offsite. Used as
``from monitoring import backups; backups.run(...)`` by ``manage.py backup_database`` /
``restore_database``, the nightly job and the /backups/ page.
"""
from ..backup_paths import MANIFEST_SUFFIX, backup_dir, manifest_path, path_of
from .archive import read_manifest, verify
from .job import ABANDONED_AFTER, NOT_TAKEN_AFTER, backup_database, request_backup, run, under_way
from .restore import _restore_postgresql, _tables_in, restore
from .retention import prune
from .tools import BackupError, pg_tool

__all__ = ["ABANDONED_AFTER", "MANIFEST_SUFFIX", "NOT_TAKEN_AFTER", "BackupError", "_restore_postgresql",
           "_tables_in", "backup_database", "backup_dir", "manifest_path", "path_of", "pg_tool", "prune",
           "read_manifest", "request_backup", "restore", "run", "under_way", "verify"]
