"""Poll every router once (as the beat job of the same name does every minute) and print the cycle's summary."""
from django.core.management.base import BaseCommand

from routers import live_data as live_data_module
from routers import polling


class Command(BaseCommand):
    help = "Poll every router now: status, load, memory, uptime, hotspot users; print online/offline counts."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, help="seconds per router (default ROUTER_POLL_TIMEOUT_SECONDS)")
        parser.add_argument("--live-data", action="store_true",
                            help="then also fetch each online router's hotspot/PPPoE services and access points")

    def handle(self, *args, timeout=None, live_data=False, **options):
        summary = polling.poll_all(timeout=timeout)
        slowest = summary["slowest"]
        self.stdout.write(
            f"{summary['polled']} routers: {summary['online']} online, {summary['offline']} offline, "
            f"{summary['error']} error; {len(summary['changed'])} changed; "
            f"{summary['active_users']} hotspot users; cycle {summary['seconds']:.2f} s")
        if slowest:
            self.stdout.write(f"slowest: {slowest['name']} ({slowest['seconds']:.2f} s)")
        if live_data:
            fetched = live_data_module.fetch_all(timeout=timeout)
            self.stdout.write(
                f"live data from {fetched['routers']} routers ({fetched['unanswered']} did not answer): "
                f"{fetched['services']} services, {fetched['access_points_online']} of "
                f"{fetched['access_points']} access points online")
