"""Configure a router for this server (RADIUS, hotspot profile, walled garden, grace rules, login page)."""
from django.core.management.base import BaseCommand, CommandError

from routers import provisioning, services
from routers.models import ProvisioningJob


class Command(BaseCommand):
    help = "Provision a router step by step, printing each step; re-running changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("router", help="the router's id or name")

    def handle(self, *args, router: str, **options):
        found = services.find_router(router)
        if found is None:
            raise CommandError(f"no router {router!r}")
        job = provisioning.start_job(found)
        if job.status != ProvisioningJob.Status.QUEUED:
            raise CommandError(f"router {found} is already being provisioned (job {job.pk})")
        self.stdout.write(f"provisioning {found} (job {job.pk})")

        def report(event: dict) -> None:
            self.stdout.write(f"{event['percent']:>3}% {event['step']:<16} {event['status']:<8} {event['message']}")

        job = provisioning.run_job(job.pk, report)
        if job.status != ProvisioningJob.Status.DONE:
            raise CommandError(f"stopped at {job.current_step}: {job.error}")
        self.stdout.write(self.style.SUCCESS(f"{found} is provisioned"))
