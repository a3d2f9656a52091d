from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.daraja import Daraja, DarajaError, callback_base_url


class Command(BaseCommand):
    help = "Register our C2B confirmation and validation URLs for the shortcode with Daraja (once per shortcode)."

    def handle(self, *args, **options):
        base = f"{callback_base_url()}/api/payments/c2b"
        token = settings.MPESA_CALLBACK_TOKEN
        daraja = Daraja()  # the M-Pesa settings as saved in the browser, else the environment
        try:
            answer = daraja.c2b_register(confirmation_url=f"{base}/confirmation/{token}",
                                           validation_url=f"{base}/validation/{token}")
        except DarajaError as error:
            raise CommandError(f"Daraja refused the registration: {error}") from error
        said = answer.get("ResponseDescription", answer)
        self.stdout.write(f"Registered for shortcode {daraja.shortcode}: {said}")
