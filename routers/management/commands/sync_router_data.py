"""Compare routers with what billing expects of them (the sync_router_data job, by hand)."""
from django.core.management.base import BaseCommand, CommandError

from routers import drift, services


class Command(BaseCommand):
    help = ("Compare each router with its provisioned state (RADIUS client, hotspot profile, walled garden, grace "
            "rules, login page, NAS row) and print what differs; --repair puts it back with a provisioning run. "
            "Exit 1 when drift remains or a router could not be checked.")

    def add_arguments(self, parser):
        parser.add_argument("--router", help="only this router (id or name); otherwise every router not offline")
        parser.add_argument("--repair", action="store_true", help="run provisioning on routers that drifted")

    def handle(self, *args, router=None, repair=False, **options):
        routers = None
        if router:
            found = services.find_router(router)
            if found is None:
                raise CommandError(f"no router {router!r}")
            routers = [found]
        summary = drift.sync_all(repair_drift=repair, routers=routers, report=self._report)
        remaining = sum(1 for entry in summary["routers"]
                        if entry["items"] and (entry["repair"] is None or entry["repair"]["remaining"]))
        self.stdout.write(f"{summary['checked']} checked: {summary['in_step']} in step, {summary['drifted']} drifted"
                          f", {summary['repaired']} repaired, {summary['unreachable']} unreachable, "
                          f"{summary['skipped']} skipped")
        if remaining or summary["unreachable"]:
            raise CommandError(f"{remaining} routers drifted" + ("" if repair else " (run with --repair)")
                               + f", {summary['unreachable']} unreachable")

    def _report(self, entry: dict) -> None:
        name = entry["name"]
        if entry["error"]:
            self.stdout.write(f"{name}: not checked: {entry['error']}")
            return
        if not entry["items"]:
            self.stdout.write(f"{name}: in step")
            return
        self.stdout.write(f"{name}: {len(entry['items'])} differences")
        for item in entry["items"]:
            self.stdout.write(f"  {item['step']}: {item['what']}")
        repaired = entry["repair"]
        if repaired:
            left = repaired["remaining"]
            self.stdout.write(f"  repaired by provisioning job {repaired['job']} ({repaired['status']}"
                              + (f": {repaired['error']}" if repaired["error"] else "") + "): "
                              + ("in step now" if not left else f"{len(left)} differences remain"))
