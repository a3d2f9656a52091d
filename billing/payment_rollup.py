"""The payments rollup: billing.PaymentDay from payments, kept current by lib.rollups. A run recomputes
every business day holding a payment completed or reversed since the watermark (a reversal changes
the day its payment came in), so reading a payment twice changes nothing. See PaymentDay.

The overlap (30 minutes) is longer than the 15 minutes within which a payment's session may start:
a day is read again after the session that names its router has arrived."""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Q, Subquery

from hotspot.rollup_sources import router_by_address
from lib import rollups
from radius.models import RadAcct

from .models import Payment, PaymentDay

SESSION_AFTER = timedelta(minutes=15)
# How far back a payment's session is looked for (a renewal paid during a session that began earlier):
# a bound, so that on radacct's month partitions each payment reads one or two of them.
SESSION_BEFORE = timedelta(days=31)


class PaymentRollup:
    name = "payments"
    overlap = timedelta(minutes=30)

    def __init__(self, zone: tzinfo):
        self.zone = zone

    def earliest(self) -> date | None:
        first = (Payment.objects.completed().order_by("completed_at")
                 .values_list("completed_at", flat=True).first())
        return rollups.day_of(first, self.zone) if first else None

    def refresh(self, window: rollups.Window) -> int:
        since = window.since
        changed = (Payment.objects.completed().filter(Q(completed_at__gte=since) | Q(reversed_at__gte=since))
                   .order_by().values_list("completed_at", flat=True))
        touched = sorted({rollups.day_of(at, self.zone) for at in changed.iterator(chunk_size=20000)})
        return self._days(touched)

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        """Recompute ``first``..``last``, except the days radacct no longer holds the sessions of (its
        retention drops whole months): their rows already name the routers, a rebuild would write
        router NULL. Those days are built only if they hold no row yet (nothing is lost then)."""
        kept, routers = self._kept(first, last), router_by_address()
        written = 0
        for run_first, run_last in _runs([day for day in rollups.days(first, last) if day not in kept]):
            if connection.vendor == "postgresql":
                written += self._range_in_sql(run_first, run_last, routers)
            else:
                written += self._days(rollups.days(run_first, run_last))
        return written

    def _kept(self, first: date, last: date) -> set[date]:
        """The days of ``first``..``last`` holding rows whose payments' sessions radacct may have dropped:
        before its first session's day plus the look-back (SESSION_BEFORE); all of them if it is empty."""
        oldest = RadAcct.objects.order_by("acct_start_time").values_list("acct_start_time", flat=True).first()
        complete_from = rollups.day_of(oldest + SESSION_BEFORE, self.zone) if oldest else None
        rows = PaymentDay.objects.filter(day__gte=first, day__lte=last)
        if complete_from is not None:
            rows = rows.filter(day__lt=complete_from)
        return set(rows.order_by().values_list("day", flat=True).distinct())

    def _days(self, days: list[date]) -> int:
        routers = router_by_address()
        written = 0
        for day in days:
            written += self._range_in_sql(day, day, routers) if connection.vendor == "postgresql" else self._day(
                day, routers)
        return written

    def _range_in_sql(self, first: date, last: date, routers: dict[str, int]) -> int:
        """``_day`` for every day of ``first``..``last`` in one statement (PostgreSQL)."""
        addresses = sorted(routers)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM billing_paymentday WHERE day BETWEEN %s AND %s", [first, last])
            cursor.execute(RANGE_SQL, {
                "zone": str(self.zone), "start": rollups.day_start(first, self.zone),
                "end": rollups.day_start(last + timedelta(days=1), self.zone), "after": SESSION_AFTER,
                "before": SESSION_BEFORE,
                "addresses": addresses, "routers": [routers[a] for a in addresses]})
            return cursor.rowcount

    def _day(self, day: date, routers: dict[str, int]) -> int:
        start = rollups.day_start(day, self.zone)
        end = rollups.day_start(day + timedelta(days=1), self.zone)
        nas = (RadAcct.objects.filter(username=OuterRef("customer__username"),
                                      acct_start_time__lte=ExpressionWrapper(
                                          OuterRef("completed_at") + SESSION_AFTER, output_field=DateTimeField()),
                                      acct_start_time__gte=ExpressionWrapper(
                                          OuterRef("completed_at") - SESSION_BEFORE, output_field=DateTimeField()))
               .order_by("-acct_start_time").values("nas_ip_address")[:1])
        found = (Payment.objects.completed().filter(completed_at__gte=start, completed_at__lt=end).order_by()
                 .annotate(nas=Subquery(nas))
                 .values_list("package", "method", "amount", "reversed_at", "nas"))
        cells: dict[tuple, list] = defaultdict(lambda: [0, Decimal("0.00"), 0, Decimal("0.00")])
        for package, method, amount, reversed_at, address in found.iterator(chunk_size=5000):
            cell = cells[(package, routers.get(address) if address else None, method)]
            cell[0] += 1
            cell[1] += amount
            if reversed_at is not None:
                cell[2] += 1
                cell[3] += amount
        PaymentDay.objects.filter(day=day).delete()
        PaymentDay.objects.bulk_create([
            PaymentDay(day=day, package_id=package, router_id=router, method=method, payments=count, amount=amount,
                       refunds=refunds, refunded=refunded)
            for (package, router, method), (count, amount, refunds, refunded) in cells.items()])
        return len(cells)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted ``days`` as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


RANGE_SQL = """
WITH routers AS (SELECT * FROM unnest(%(addresses)s::inet[], %(routers)s::int[]) AS m(address, router_id)),
paid AS (
    SELECT (p.completed_at AT TIME ZONE %(zone)s)::date AS day, p.package_id, p.method, p.amount, p.reversed_at,
           (SELECT r.nasipaddress FROM radacct r WHERE r.username = c.username
                   AND r.acctstarttime <= p.completed_at + %(after)s AND r.acctstarttime >= p.completed_at - %(before)s
            ORDER BY r.acctstarttime DESC LIMIT 1) AS address
    FROM billing_payment p LEFT JOIN hotspot_customer c ON c.id = p.customer_id
    WHERE p.status = 'completed' AND p.completed_at >= %(start)s AND p.completed_at < %(end)s
)
INSERT INTO billing_paymentday (day, package_id, router_id, method, payments, amount, refunds, refunded)
SELECT day, package_id, m.router_id, method, count(*), sum(amount), count(*) FILTER (WHERE reversed_at IS NOT NULL),
       coalesce(sum(amount) FILTER (WHERE reversed_at IS NOT NULL), 0)
FROM paid LEFT JOIN routers m ON m.address = paid.address
GROUP BY day, package_id, m.router_id, method
"""
