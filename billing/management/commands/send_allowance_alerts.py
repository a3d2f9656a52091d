from django.core.management.base import BaseCommand

from billing import tasks


class Command(BaseCommand):
    help = "Run the send_allowance_alerts job once, now (beat runs it every minute)."

    def handle(self, *args, **options):
        result = tasks.send_allowance_alerts.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
