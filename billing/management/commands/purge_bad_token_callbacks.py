from django.core.management.base import BaseCommand

from billing import tasks


class Command(BaseCommand):
    help = ("Run the purge_bad_token_callbacks job once, now: posts to a wrong callback token older than "
            "MPESA_BAD_TOKEN_RETENTION_DAYS are deleted (beat runs it nightly). Real callbacks are kept.")

    def handle(self, *args, **options):
        result = tasks.purge_bad_token_callbacks.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
