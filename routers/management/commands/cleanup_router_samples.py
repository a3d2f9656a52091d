"""Delete router samples past their retention (as the nightly cleanup_router_samples job does)."""
from django.conf import settings
from django.core.management.base import BaseCommand

from routers import polling


class Command(BaseCommand):
    help = "Delete router samples older than ROUTER_SAMPLE_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = polling.cleanup_samples()["deleted"]
        self.stdout.write(f"Deleted {deleted} router samples older than {settings.ROUTER_SAMPLE_RETENTION_DAYS} days.")
