from django.core.management.base import BaseCommand

from hotspot import tasks


class Command(BaseCommand):
    help = "Run the check_expired_subscriptions job once, now (beat runs it on a schedule)."

    def handle(self, *args, **options):
        result = tasks.check_expired_subscriptions.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
