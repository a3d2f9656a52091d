"""Every report rollup, brought up to date together: payments (PaymentDay), customers (CustomerDay,
CohortMonth), usage (hotspot.UsageDay) and sign-ins (hotspot.LoginHour, LoginDay). One entry point for
the beat job, the refresh_reports and rebuild_reports commands and the demo's seeding; each rollup runs
under its own lock (lib.rollups), so runs at once wait for each other and count nothing twice."""
from datetime import date

from hotspot.login_rollup import LoginRollup
from hotspot.models import RollupWatermark
from hotspot.usage_rollup import UsageRollup
from lib import rollups
from siteconfig import time_zone

from .customer_rollup import CustomerRollup
from .payment_rollup import PaymentRollup


def _all():
    zone = time_zone.current()
    return zone, [PaymentRollup(zone), CustomerRollup(zone), UsageRollup(zone), LoginRollup(zone)]


def refresh(since: date | None = None) -> list[rollups.Outcome]:
    """Bring every rollup up to date: what changed since each one's watermark, or everything from the
    business day ``since`` (also what a rollup that never ran does, from the first day of its data)."""
    zone, found = _all()
    return [rollups.refresh(rollup, RollupWatermark, zone=zone, since=since) for rollup in found]


def rebuild(first: date, last: date) -> list[rollups.Outcome]:
    """Recompute the business days ``first``..``last`` of every rollup from the source rows still kept
    (radacct and radpostauth past their retention are gone: their days would come back empty)."""
    _, found = _all()
    return [rollups.rebuild(rollup, RollupWatermark, first, last) for rollup in found]
