"""Every report rollup, brought up to date together: payments (PaymentDay), customers (CustomerDay,
CohortMonth), usage (hotspot.UsageDay) and sign-ins (hotspot.LoginHour, LoginDay). One entry point for
the beat job, the refresh_reports and rebuild_reports commands and the demo's seeding; each rollup runs
under its own lock (lib.rollups), so runs at once wait for each other and count nothing twice."""
from datetime import date

from django.db import connection

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


# One row per customer, each rewritten by a rebuild once per month it covers (and by a first refresh
# over all history): a year's rebuild leaves a dozen dead versions of every row, which autovacuum
# frees for reuse but never gives back, and the usage report's top customers scan these tables whole
# (at 100,000 customers: 166 MB instead of 18, 75 ms a page instead of 30).
COMPACTED = ("billing_customerusagerunning", "billing_customerusagerecent")
# The rollups' rows and the totals their triggers keep: after a range is rewritten, vacuumed and
# analysed at once rather than whenever autovacuum comes by, so the report pages' index-only scans
# find the pages all-visible again and the next 5-minute run writes among live rows.
VACUUMED = ("hotspot_usageday", "hotspot_sessionmark", "hotspot_loginhour", "hotspot_loginday",
            "billing_customerusagemonth", "billing_usagetotal", "billing_paymentday", "billing_paymenttotal",
            "billing_customerday", "billing_cohortmonth")


def compact() -> None:
    """After a rebuild or a backfill: the one-row-per-customer summary tables rewritten without their
    dead rows (PostgreSQL's VACUUM FULL: an exclusive lock for the second or so 100,000 rows take; a
    refresh or a report waits for it), the other rollup tables vacuumed and analysed. Outside a
    transaction only; nothing to do elsewhere than PostgreSQL."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in COMPACTED:
            cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
        for table in VACUUMED:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
