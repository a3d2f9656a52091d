"""Delete system-log, audit and notification rows past their retention, as the nightly job does."""
from django.core.management.base import BaseCommand

from monitoring import rotation


class Command(BaseCommand):
    help = ("Delete stored system-log records, audit entries and sent notifications older than "
            "SYSTEM_LOG_RETENTION_DAYS, AUDIT_RETENTION_DAYS and NOTIFICATION_RETENTION_DAYS, in batches.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=rotation.BATCH, help="rows per DELETE (default %(default)s)")

    def handle(self, *args, batch=rotation.BATCH, **options):
        done = rotation.rotate(batch=max(1, batch))
        self.stdout.write(f"removed {done.system_log} system-log records, {done.activity} audit entries, "
                          f"{done.notifications} notifications, {done.failed_jobs} failed-job records")
