from django.core.management.base import BaseCommand, CommandError

from billing import callback_sweeps, tasks


class Command(BaseCommand):
    help = ("Run the reprocess_callbacks job once, now: stored M-Pesa bodies left received or in error are "
            "processed again (beat runs it every minute). --callback ID first makes one body due again, "
            "its attempts restarted (after a given-up body's cause is mended).")

    def add_arguments(self, parser):
        parser.add_argument("--callback", type=int, help="an MpesaCallback id to retry now")

    def handle(self, *args, **options):
        if options["callback"] is not None and not callback_sweeps.retry_now(options["callback"]):
            raise CommandError(f"callback {options['callback']} is settled or not an STK/C2B confirmation body")
        result = tasks.reprocess_callbacks.run()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in result.items()))
