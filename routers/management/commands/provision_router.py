"""Configure a router for this server (RADIUS, hotspot profile, walled garden, grace rules, login page)."""
from django.core.management.base import BaseCommand, CommandError

from routers import provisioning
from routers.models import ProvisioningJob, Router


class Command(BaseCommand):
    help = "Provision a router step by step, printing each step; re-running changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("router", help="the router's id or name")

    def handle(self, *args, router: str, **options):
        found = Router.objects.filter(pk=int(router)) if router.isdigit() else Router.objects.none()
        found = found or Router.objects.filter(name=router)
        if not found:
            raise CommandError(f"no router {router!r}")
        job = provisioning.start_job(found[0])
        if job.status != ProvisioningJob.Status.QUEUED:
            raise CommandError(f"router {found[0]} is already being provisioned (job {job.pk})")
        self.stdout.write(f"provisioning {found[0]} (job {job.pk})")

        def report(event: dict) -> None:
            self.stdout.write(f"{event['percent']:>3}% {event['step']:<16} {event['status']:<8} {event['message']}")

        job = provisioning.run_job(job.pk, report)
        if job.status != ProvisioningJob.Status.DONE:
            raise CommandError(f"stopped at {job.current_step}: {job.error}")
        self.stdout.write(self.style.SUCCESS(f"{found[0]} is provisioned"))
