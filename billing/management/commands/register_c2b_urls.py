from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.daraja import Daraja, DarajaError


class Command(BaseCommand):
    help = "Register our C2B confirmation and validation URLs for the shortcode with Daraja (once per shortcode)."

    def handle(self, *args, **options):
        base = f"{settings.MPESA_CALLBACK_BASE_URL}/api/payments/c2b"
        token = settings.MPESA_CALLBACK_TOKEN
        try:
            answer = Daraja().c2b_register(confirmation_url=f"{base}/confirmation/{token}",
                                           validation_url=f"{base}/validation/{token}")
        except DarajaError as error:
            raise CommandError(f"Daraja refused the registration: {error}") from error
        said = answer.get("ResponseDescription", answer)
        self.stdout.write(f"Registered for shortcode {settings.MPESA_SHORTCODE}: {said}")
