from django.core.management.base import BaseCommand

from accounts import services


class Command(BaseCommand):
    help = "Delete API tokens that ended over a day ago and expired staff sessions."

    def handle(self, *args, **options):
        removed = services.purge_expired_credentials()
        self.stdout.write(f"Removed {removed['tokens']} API tokens and {removed['sessions']} sessions.")
