from django.core.management.base import BaseCommand

from billing import tasks


class Command(BaseCommand):
    help = ("Run the send_receipts job once, now: every receipt still owed (payments wake it; beat runs it "
            "every minute).")

    def handle(self, *args, **options):
        result = tasks.send_receipts.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
