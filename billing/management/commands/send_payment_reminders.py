from django.core.management.base import BaseCommand

from billing import tasks


class Command(BaseCommand):
    help = "Run the send_payment_reminders job once, now (beat runs it on a schedule)."

    def handle(self, *args, **options):
        result = tasks.send_payment_reminders.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
