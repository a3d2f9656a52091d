"""A NAS that answers Disconnect/CoA requests, for the demo: point a NAS row's CoA port at it."""
import time

from django.core.management.base import BaseCommand

from radius.nas_simulator import ACK, NAK, SILENT, NasSimulator


class Command(BaseCommand):
    help = "Answer RFC 5176 Disconnect/CoA requests on UDP like a router would, printing each one."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=3799)
        parser.add_argument("--secret", required=True, help="the NAS's RADIUS secret")
        parser.add_argument("--default", choices=[ACK, NAK, SILENT], default=ACK)
        parser.add_argument("--nak", nargs="*", default=[], metavar="USERNAME", help="refuse these users")
        parser.add_argument("--silent", nargs="*", default=[], metavar="USERNAME", help="never answer these")

    def handle(self, *args, **options):
        simulator = NasSimulator(secret=options["secret"].encode(), host=options["host"], port=options["port"],
                                 default=options["default"])
        for username in options["nak"]:
            simulator.answer(username, NAK)
        for username in options["silent"]:
            simulator.answer(username, SILENT)
        simulator.start()
        self.stdout.write(f"NAS simulator answering on {simulator.host}:{simulator.port} (Ctrl-C to stop)")
        seen = 0
        try:
            while True:
                time.sleep(0.2)
                for request in simulator.received[seen:]:
                    self.stdout.write(f"{request.kind} from {request.source[0]}: {request.attributes}")
                seen = len(simulator.received)
        except KeyboardInterrupt:
            simulator.stop()
