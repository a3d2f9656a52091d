"""Remove prepared export files and their rows past EXPORT_KEEP_HOURS, as the hourly job does."""
from django.core.management.base import BaseCommand

from monitoring import exports


class Command(BaseCommand):
    help = "Delete prepared export files (EXPORT_DIR) and their rows older than EXPORT_KEEP_HOURS."

    def handle(self, *args, **options):
        done = exports.remove_old()
        self.stdout.write(f"removed {done['removed']} exports; "
                          f"{done['abandoned']} left running by a stopped worker marked failed")
