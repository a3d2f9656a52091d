from django.core.management.base import BaseCommand, CommandError

from billing import tasks
from billing.models import Payment


class Command(BaseCommand):
    help = "Ask M-Pesa about one payment now and settle it if its outcome is known."

    def add_arguments(self, parser):
        parser.add_argument("payment_id", type=int)

    def handle(self, *args, **options):
        if not Payment.objects.filter(pk=options["payment_id"]).exists():
            raise CommandError(f"No payment {options['payment_id']}")
        self.stdout.write(tasks.process_payment.run(options["payment_id"])["result"])
