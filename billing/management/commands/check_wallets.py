from django.core.management.base import BaseCommand

from billing import wallets


class Command(BaseCommand):
    help = "List every customer whose stored wallet balance differs from the sum of their ledger entries (the " \
           "truth); with --fix, set each from the ledger (an audit entry per customer). Exit status 1 when any " \
           "differed and was not fixed."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="set each differing balance from the ledger")

    def handle(self, *args, **options):
        found = wallets.check().found  # stored for the payment reports page, as the hourly job does
        for wrong in found:
            self.stdout.write(wrong.text)
        if not found:
            self.stdout.write("Every stored wallet balance equals its ledger sum.")
            return
        if not options["fix"]:
            self.stdout.write(f"{len(found)} differ; check_wallets --fix sets them from the ledger.")
            raise SystemExit(1)
        # By the system: the operator's shell is not a staff session. The page compares the stored
        # differences again, so the fixed ones leave it without another whole check.
        fixed = wallets.fix(found)
        self.stdout.write(f"Set {len(fixed)} of {len(found)} from the ledger (the rest were put right meanwhile).")
