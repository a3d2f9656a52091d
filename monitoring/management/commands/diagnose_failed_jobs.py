"""Print the failed jobs not yet retried or dismissed, grouped by task and exception: how many, the
latest traceback of each group, and a hint when the cause is a known one."""
from django.core.management.base import BaseCommand
from django.utils import timezone

from monitoring import jobs
from monitoring.models import TaskFailure


class Command(BaseCommand):
    help = "Group the failed jobs by task and exception, with the latest traceback and a likely cause."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="include retried and dismissed failures")
        parser.add_argument("--task", default="", help="only tasks whose name contains this")

    def handle(self, *args, **options):
        failures = TaskFailure.objects.all()
        if not options["all"]:
            failures = failures.filter(state=TaskFailure.State.FAILED)
        if options["task"]:
            failures = failures.filter(task_name__icontains=options["task"])
        groups = jobs.failure_groups(failures)
        if not groups:
            self.stdout.write("No failed jobs to diagnose.")
            return
        for group in groups:
            latest = failures.filter(task_name=group["task_name"], exception_type=group["exception_type"]).first()
            self.stdout.write(self.style.ERROR(
                f"{group['task_name']}  {group['exception_type'] or '?'}  x{group['count']}  "
                f"(first {_when(group['first'])}, latest {_when(group['latest'])})"))
            self.stdout.write(f"  latest: {latest.exception[:300]}  [failure {latest.pk}, attempt {latest.attempt}"
                              f"{', arguments ' + latest.arguments[:200] if latest.arguments else ''}]")
            if hint := jobs.hint(latest):
                self.stdout.write(self.style.WARNING(f"  hint: {hint}"))
            if latest.traceback:
                self.stdout.write("  " + latest.traceback.strip().replace("\n", "\n  "))
            self.stdout.write("")
        self.stdout.write("Retry them with: manage.py fix_failed_queues --retry [--task NAME]")


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
