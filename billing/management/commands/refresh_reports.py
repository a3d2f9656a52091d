from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing import report_rollups


class Command(BaseCommand):
    help = ("Bring the report rollups up to date now (beat runs this every 5 minutes): what changed since "
            "the last run, or with --since every business day from DATE to today, recomputed.")

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="recompute from this business day to today")

    def handle(self, *args, since=None, **options):
        try:
            first = date.fromisoformat(since) if since else None
        except ValueError:
            raise CommandError(f"--since: {since!r} is not a date (YYYY-MM-DD)") from None
        for outcome in report_rollups.refresh(first):
            self.stdout.write(f"{outcome.name}: {outcome.keys} summary keys rewritten, "
                              f"up to {outcome.until:%Y-%m-%d %H:%M:%S}")
        if first is not None:  # a backfill rewrites every customer's summary rows many times over
            report_rollups.compact()
