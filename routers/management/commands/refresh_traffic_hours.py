"""Sum the routers' minute samples into hourly traffic rows (as the hourly refresh_traffic_hours job does)."""
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from routers import traffic_history


class Command(BaseCommand):
    help = "Recompute the hourly traffic rows from the last one stored (or from --since DATE) to now."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="recompute from this date (YYYY-MM-DD, business time zone)")

    def handle(self, *args, since=None, **options):
        start = None
        if since:
            try:
                start = timezone.make_aware(datetime.combine(datetime.strptime(since, "%Y-%m-%d").date(), time()))
            except ValueError:
                raise CommandError(f"--since {since!r} is not a date (YYYY-MM-DD)") from None
        done = traffic_history.refresh_hours(since=start)
        self.stdout.write(f"Recomputed {done['hours']} hours ({done['rows']} router-hours); "
                          f"dropped {done['dropped']} past retention.")
