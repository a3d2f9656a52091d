"""manage.py close_radius_sessions: the beat task radius.tasks.close_radius_sessions, by hand."""
from django.core.management.base import BaseCommand

from radius import sessions


class Command(BaseCommand):
    help = "Close sessions of NAS devices that rebooted (Accounting-On) and sessions gone silent."

    def handle(self, *args, **options):
        closed = sessions.close_sessions()
        self.stdout.write(f"Closed {closed['reloaded']} sessions of rebooted NAS devices "
                          f"and {closed['stale']} stale sessions.")
