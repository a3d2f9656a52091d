"""manage.py slow_down_crossed_sessions: the beat task radius.tasks.slow_down_crossed_sessions, by hand."""
from django.core.management.base import BaseCommand

from radius import fair_use


class Command(BaseCommand):
    help = "Slow down (CoA) the open sessions of customers over a fair-use allowance."

    def handle(self, *args, **options):
        attempts = fair_use.slow_down_crossed()
        applied = sum(1 for attempt in attempts if attempt.applied)
        self.stdout.write(f"Slowed down {applied} sessions; {len(attempts) - applied} to try again.")
