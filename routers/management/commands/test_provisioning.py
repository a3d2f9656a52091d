"""Check a router against provisioning without writing to it: each step's would-be changes, or ok."""
from django.core.management.base import BaseCommand, CommandError

from routers import drift, services
from routers.routeros import RouterError


class Command(BaseCommand):
    help = ("Dry-run provisioning against a router: print what each step would change, or ok. Writes nothing "
            "to the router. Exit 1 when the router is unreachable or a step would change or stop on something.")

    def add_arguments(self, parser):
        parser.add_argument("router", help="the router's id or name")

    def handle(self, *args, router: str, **options):
        found = services.find_router(router)
        if found is None:
            raise CommandError(f"no router {router!r}")
        try:
            checks = drift.inspect(found)
        except RouterError as error:
            raise CommandError(f"{found}: {error.reason}: {error.message}") from None
        for result in checks:
            lines = {"ok": ["ok"], "drift": list(result.changes)}.get(result.status,
                                                                       [f"{result.status}: {result.message}"])
            for n, line in enumerate(lines):
                self.stdout.write(f"{result.step if n == 0 else '':<16} {line}")
        pending = [result for result in checks if result.status in ("drift", "failed")]
        if pending:
            raise CommandError(f"{found}: {len(pending)} of {len(checks)} steps would change or stop")
        self.stdout.write(self.style.SUCCESS(f"{found} matches provisioning"))
