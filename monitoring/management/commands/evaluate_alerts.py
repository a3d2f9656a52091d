"""Run the alert rules once, as beat's minute job does: incidents opened, reminded, resolved, and
their messages delivered."""
from django.core.management.base import BaseCommand

from monitoring.alerts import incidents


class Command(BaseCommand):
    help = ("Evaluate every alert rule now (router offline, M-Pesa callbacks, failed jobs, backups, FreeRADIUS, "
            "disk), open or resolve incidents and deliver their messages (also every minute from beat).")

    def handle(self, *args, **options):
        done = incidents.evaluate()
        for kind, error in done.errors.items():
            self.stderr.write(f"{kind}: {error}")
        self.stdout.write(f"{len(done.evaluated)} rules evaluated ({len(done.skipped)} busy elsewhere); "
                          f"{done.opened} opened, {done.reopened} reopened, {done.resolved} resolved; "
                          f"{done.queued} messages written, {done.delivered.sent} sent, "
                          f"{done.delivered.failed} failed, {done.delivered.retrying} to retry")
