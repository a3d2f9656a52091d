from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from billing import reconciliation
from siteconfig import time_zone


class Command(BaseCommand):
    help = "Print the reconciliation of one day (default yesterday, in the business's time zone): payments vs " \
           "subscriptions, ledger and callbacks, with every mismatch. Exit status 1 when there are mismatches."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD")

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else time_zone.today() - timedelta(days=1)
        except ValueError:
            raise CommandError("--date takes YYYY-MM-DD") from None
        report = reconciliation.build(day)
        self.stdout.write("\n".join(report.lines()))
        if report.mismatches:
            raise SystemExit(1)
