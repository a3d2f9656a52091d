"""Run the Daraja simulator (the quick start's M-Pesa) until Ctrl-C."""
import time

from django.core.management.base import BaseCommand

from billing.daraja_simulator import DarajaSimulator


class Command(BaseCommand):
    help = "Serve a Daraja stand-in (OAuth, STK push/query, C2B) that posts callbacks like Safaricom."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8900)

    def handle(self, *args, **options):
        simulator = DarajaSimulator(host=options["host"], port=options["port"]).start()
        self.stdout.write(f"Daraja simulator on {simulator.base_url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            simulator.stop()
