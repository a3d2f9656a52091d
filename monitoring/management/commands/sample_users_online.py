"""Store how many customers are online now and drop samples past retention, as the 5-minute job does."""
from django.core.management.base import BaseCommand

from lib import live
from monitoring import sampling


class Command(BaseCommand):
    help = ("Store one users-online sample (customers with an open RADIUS session) for the dashboard's chart "
            "and delete samples older than USERS_ONLINE_RETENTION_DAYS.")

    def handle(self, *args, **options):
        done = sampling.sample_users_online()
        live.drain()  # the announcement leaves before the command exits
        self.stdout.write(f"{done.users} users online; {done.removed} old samples removed")
