"""Send yesterday's business summary to the staff who chose it, as beat's hourly job does (once per day)."""
from django.core.management.base import BaseCommand

from monitoring import business_summary


class Command(BaseCommand):
    help = ("Yesterday's revenue, logins, top package and routers down, by SMS or e-mail to the staff who chose "
            "it on their alert preferences; once per business day, from 07:00 business time.")

    def handle(self, *args, **options):
        sent = business_summary.send_summary()
        if sent.skipped:
            self.stdout.write(f"Summary of {sent.day}: not sent ({sent.skipped}).")
        else:
            self.stdout.write(f"Summary of {sent.day}: {sent.queued} messages written, {sent.delivered.sent} sent, "
                              f"{sent.delivered.failed} failed, {sent.delivered.retrying} to retry.")
