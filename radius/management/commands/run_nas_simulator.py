"""A NAS that answers Disconnect/CoA requests, for the demo: one at an address, or one per NAS row."""
import ipaddress
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from radius.models import Nas, RadAcct
from radius.nas_simulator import ACK, NAK, SILENT, NasSimulator

REFRESH_SECONDS = 2.0


class Command(BaseCommand):
    help = ("Answer RFC 5176 Disconnect/CoA requests on UDP like a router would, printing each one: at "
            "--host/--port with --secret, or with --nas-rows as every NAS row on a loopback address (the "
            "quick start's routers), each with its row's secret and CoA port, following the table as it changes; "
            "there, with no router and no FreeRADIUS behind it, a Disconnect it acknowledges also closes the "
            "session's accounting row, as the router's Accounting-Stop would.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=3799)
        parser.add_argument("--secret", default="", help="the NAS's RADIUS secret (not with --nas-rows)")
        parser.add_argument("--nas-rows", action="store_true",
                            help="answer as every NAS row whose address is on this machine's loopback")
        parser.add_argument("--default", choices=[ACK, NAK, SILENT], default=ACK)
        parser.add_argument("--nak", nargs="*", default=[], metavar="USERNAME", help="refuse these users")
        parser.add_argument("--silent", nargs="*", default=[], metavar="USERNAME", help="never answer these")

    def handle(self, *args, **options):
        if options["nas_rows"] == bool(options["secret"]):
            raise CommandError("give either --secret (one NAS at --host) or --nas-rows")
        self.options = options
        running: dict[tuple, NasSimulator] = {}
        if options["secret"]:
            running[(options["host"], options["port"], options["secret"])] = self._start(
                options["host"], options["port"], options["secret"])
        checked = 0.0
        try:
            while True:
                if options["nas_rows"] and time.monotonic() - checked >= REFRESH_SECONDS:
                    checked = time.monotonic()
                    self._follow_table(running)  # one small query: the demo has a few rows
                for simulator in running.values():
                    for request in simulator.received[simulator.printed:]:
                        self.stdout.write(f"{request.kind} to {simulator.host} from {request.source[0]}: "
                                          f"{request.attributes}")
                    simulator.printed = len(simulator.received)
                self.stdout.flush()  # the quick start sends this to a file: show each request as it comes
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            for simulator in running.values():
                simulator.stop()

    def _follow_table(self, running: dict) -> None:
        """Start a simulator for each loopback NAS row not served yet; stop those whose row went
        or changed (a new secret or CoA port is a new simulator)."""
        wanted = set()
        for nas in Nas.objects.select_related("coa").order_by("nasname"):
            try:
                loopback = ipaddress.ip_address(nas.nasname).is_loopback
            except ValueError:
                loopback = False
            if loopback:  # a real router's address is never ours to answer for
                wanted.add((nas.nasname, nas.coa.port if hasattr(nas, "coa") else 3799, nas.secret))
        for key in set(running) - wanted:
            running.pop(key).stop()
            self.stdout.write(f"stopped answering as {key[0]}:{key[1]}")
        for key in sorted(wanted - set(running)):
            try:
                running[key] = self._start(*key)
            except OSError as error:  # e.g. the port is taken at that address
                self.stderr.write(f"cannot answer as {key[0]}:{key[1]}: {error}")

    @staticmethod
    def _account_stop(host: str):
        """What the router reports after ending a session (Accounting-Stop, written by FreeRADIUS),
        done before the ACK leaves: the page the operator returns to no longer lists the session."""
        def close(request, how: str) -> None:
            if request.kind != "disconnect" or how != ACK:
                return
            try:
                RadAcct.objects.filter(
                    nas_ip_address=host, username=request.attributes.get("User-Name", ""), acct_stop_time__isnull=True,
                    acct_session_id=request.attributes.get("Acct-Session-Id", "")).update(
                    acct_stop_time=timezone.now(), acct_terminate_cause="Admin-Reset")
            except Exception as error:  # noqa: BLE001 - the simulator keeps answering whatever the database says
                sys.stderr.write(f"could not close {request.attributes.get('User-Name')}'s session: {error}\n")
            finally:
                close_old_connections()
        return close

    def _start(self, host: str, port: int, secret: str) -> NasSimulator:
        simulator = NasSimulator(secret=secret.encode(), host=host, port=port, default=self.options["default"],
                                 before_answer=self._account_stop(host) if self.options["nas_rows"] else None)
        for username in self.options["nak"]:
            simulator.answer(username, NAK)
        for username in self.options["silent"]:
            simulator.answer(username, SILENT)
        simulator.start()
        simulator.printed = 0
        self.stdout.write(f"NAS simulator answering as {simulator.host}:{simulator.port}")
        return simulator
