"""Delete forged inbound SMS posts past their retention, as the nightly job does."""
from django.core.management.base import BaseCommand

from monitoring import inbound_sms, tasks


class Command(BaseCommand):
    help = (f"Run the purge_forged_sms job once, now: posts to the inbound SMS webhook with a wrong token older "
            f"than {inbound_sms.FORGED_RETENTION_DAYS} days are deleted (beat runs it nightly). Real posts are kept.")

    def handle(self, *args, **options):
        result = tasks.purge_forged_sms.run()
        self.stdout.write(f"deleted {result['deleted']} forged inbound SMS posts")
