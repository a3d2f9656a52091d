import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing import report_rollups


class Command(BaseCommand):
    help = ("Recompute the report rollups of the business days FROM..TO from payments, radacct and radpostauth "
            "(days those no longer hold keep their rows).")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD")

    def handle(self, *args, first, last, **options):
        try:
            first, last = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise CommandError("--from and --to are dates (YYYY-MM-DD)") from None
        if last < first:
            raise CommandError("--to is before --from")
        started = time.monotonic()
        for outcome in report_rollups.rebuild(first, last):
            self.stdout.write(f"{outcome.name}: {outcome.keys} summary keys rewritten")
        report_rollups.compact()
        self.stdout.write(f"rebuilt {first}..{last} in {time.monotonic() - started:.1f} s")
