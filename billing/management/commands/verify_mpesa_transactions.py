from django.core.management.base import BaseCommand

from billing import tasks


class Command(BaseCommand):
    help = "Run the verify_mpesa_transactions job once, now (beat runs it on a schedule)."

    def handle(self, *args, **options):
        result = tasks.verify_mpesa_transactions.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
