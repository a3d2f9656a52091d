"""Back up every online router's configuration and keep the newest N per router (the nightly job)."""
from django.core.management.base import BaseCommand

from routers import nightly_backups


class Command(BaseCommand):
    help = ("Save a configuration backup on every online router not yet backed up today, then delete all but "
            "the newest backups.router_keep of each (Settings → Backups).")

    def handle(self, *args, **options):
        summary = nightly_backups.backup_all()
        for line in summary["failed"]:
            self.stderr.write(f"failed: {line}")
        self.stdout.write(f"Backed up {len(summary['backed_up'])} routers, skipped {len(summary['skipped'])} "
                          f"(done today or in hand elsewhere), {len(summary['failed'])} failed; "
                          f"deleted {summary['deleted']} old backups.")
        if summary["failed"]:
            raise SystemExit(1)
