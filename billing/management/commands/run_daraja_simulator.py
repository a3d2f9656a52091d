"""Run the Daraja simulator (the quick start's M-Pesa) until Ctrl-C."""
import os
import time

from django.core.management.base import BaseCommand

from billing.daraja_simulator import DarajaSimulator


class Command(BaseCommand):
    help = "Serve a Daraja stand-in (OAuth, STK push/query, C2B) that posts callbacks like Safaricom."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900)
        # The app's key pair it gives tokens to, as Safaricom knows one app's keys: another pair
        # is refused with Daraja's "Invalid Authentication passed".
        parser.add_argument("--consumer-key", default=os.environ.get("DARAJA_SIMULATOR_CONSUMER_KEY", "simulator-key"))
        parser.add_argument("--consumer-secret",
                            default=os.environ.get("DARAJA_SIMULATOR_CONSUMER_SECRET", "simulator-secret"))

    def handle(self, *args, **options):
        simulator = DarajaSimulator(host=options["host"], port=options["port"], consumer_key=options["consumer_key"],
                                    consumer_secret=options["consumer_secret"]).start()
        # The key is named so the operator knows which pair to save; the secret never printed.
        self.stdout.write(f"Daraja simulator on {simulator.base_url} for consumer key {simulator.consumer_key} "
                          "(Ctrl-C to stop)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            simulator.stop()
