"""Restore a backup archive into an empty database, migrate it forward, and compare row counts."""
import os

from django.core.management.base import BaseCommand, CommandError

from monitoring import backups


class Command(BaseCommand):
    help = ("Restore ARCHIVE (made by backup_database) into an empty database: --database-url's, else "
            "RESTORE_DATABASE_URL's, else DATABASE_URL's. Leave the password out of the URL (ps and the shell "
            "history show a command line): PostgreSQL's tools and the connections take it from PGPASSWORD or "
            "~/.pgpass. "
            "The archive is checked against its manifest and read in full first; the restore is one transaction. "
            "Then migrate runs if the archive is older than this code, and each table's row count in the manifest "
            "is printed beside the restored one.")
    requires_system_checks = []  # the target may be the configured database, still empty

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--database-url", help="restore here (postgres://USER@HOST:PORT/NAME or sqlite:///path; "
                                                   "default: RESTORE_DATABASE_URL, else the configured database)")
        parser.add_argument("--force", action="store_true",
                            help="replace everything in a database that is not empty (needs --database-url or "
                                 "RESTORE_DATABASE_URL: never the configured database by default)")

    def handle(self, *args, archive, database_url=None, force=False, **options):
        database_url = database_url or os.environ.get("RESTORE_DATABASE_URL") or None
        try:
            result = backups.restore(archive, database_url=database_url, force=force)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"restored {result['archive']} into {result['database']}\n  verified: {result['verified']}")
        width = max((len(t) for t in result["tables"]), default=10)
        self.stdout.write(f"\n  {'table':<{width}}  {'manifest':>10}  {'restored':>10}")
        for table, (want, got) in result["tables"].items():
            mark = "  DIFFERS" if table in result["mismatched"] else ""
            self.stdout.write(f"  {table:<{width}}  {_n(want):>10}  {_n(got):>10}{mark}")
        if result["migrated"]:
            self.stdout.write(f"\nmigrated forward: {', '.join(result['migrated'])}")
        if result["mismatched"]:
            raise CommandError(f"{len(result['mismatched'])} tables differ from the manifest: "
                               + ", ".join(result["mismatched"]))
        if result["manifest"]:
            self.stdout.write(f"\nall {len(result['tables'])} tables match the manifest")
        else:
            self.stdout.write("\nno manifest beside the archive: the restored counts are not compared")


def _n(count) -> str:
    return "-" if count is None else f"{count:,}"
