"""Print Celery queue depths and the most recent failed jobs."""
from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import jobs


class Command(BaseCommand):
    help = "Show messages waiting in each Celery queue and recent job failures."

    def add_arguments(self, parser):
        parser.add_argument("--failures", type=int, default=10, help="how many recent failures to list")

    def handle(self, *args, **options):
        if jobs.eager():
            self.stdout.write("Tasks run eagerly in-process (no broker configured): nothing is queued.")
        else:
            try:
                depths = jobs.queue_depths()
            except Exception as error:  # noqa: BLE001 - report, don't crash, when the broker is down
                self.stderr.write(self.style.ERROR(f"Broker unreachable: {error}"))
                depths = []
            if depths:
                self.stdout.write(f"{'queue':<16}{'waiting':>9}{'consumers':>11}")
                for d in depths:
                    waiting = "?" if d.messages is None else str(d.messages)
                    consumers = "-" if d.consumers is None else str(d.consumers)
                    self.stdout.write(f"{d.name:<16}{waiting:>9}{consumers:>11}")
        failures = jobs.recent_failures(options["failures"])
        if not failures:
            self.stdout.write("No failed jobs recorded.")
            return
        self.stdout.write(f"\nRecent failures ({len(failures)}):")
        for f in failures:
            when = timezone.localtime(f.failed_at).strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(f"  {when}  {f.task_name}  {f.exception[:120]}")
