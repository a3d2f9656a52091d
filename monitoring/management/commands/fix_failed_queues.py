"""Act on failed jobs in bulk: send them again with their arguments (as /health/jobs/ does), or
delete their records."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from monitoring import jobs
from monitoring.models import TaskFailure

NAME = "fix_failed_queues"


class Command(BaseCommand):
    help = "Retry (--retry) or delete (--purge) the failed jobs matching --task and --older-than."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--retry", action="store_true", help="send each open failure again (once)")
        action.add_argument("--purge", action="store_true", help="delete the failure records (any state)")
        parser.add_argument("--task", default="", help="only this task (its full name)")
        parser.add_argument("--older-than", type=float, default=None, metavar="DAYS",
                            help="only failures older than this many days")

    def handle(self, *args, **options):
        failures = TaskFailure.objects.all()
        if options["task"]:
            failures = failures.filter(task_name=options["task"])
        if options["older_than"] is not None:
            if options["older_than"] < 0:
                raise CommandError("--older-than takes a number of days, 0 or more")
            failures = failures.filter(failed_at__lt=timezone.now() - timedelta(days=options["older_than"]))
        if options["purge"]:
            deleted, _ = failures.delete()
            self.stdout.write(f"Deleted {deleted} failure record{'s' if deleted != 1 else ''}.")
            return
        self._retry(failures.filter(state=TaskFailure.State.FAILED).order_by("failed_at"))

    def _retry(self, failures):
        sent = skipped = 0
        for pk in failures.values_list("pk", flat=True):
            try:
                retried = jobs.retry(pk, by_name=NAME)
            except (TaskFailure.DoesNotExist, jobs.FailureHandled):
                continue  # handled meanwhile, from the page or another run
            except jobs.NotRetryable as refused:
                skipped += 1
                self.stderr.write(f"skipped: {refused}")
                continue
            except BrokerDown as error:
                raise CommandError(f"The broker is unreachable, stopped after {sent} sent: {error}") from None
            sent += 1
            outcome = "" if not retried.ran_in_place else " (ran in place: " + (
                "succeeded)" if retried.succeeded else "failed again)")
            self.stdout.write(f"{retried.failure.task_name} [failure {pk}] sent again as "
                              f"{retried.new_task_id}{outcome}")
        self.stdout.write(f"Retried {sent}, skipped {skipped} (arguments not JSON).")
