"""Revenue figures for the billing pages: money received per day of a month and per method.

Revenue is what reconciliation counts as received: completed payments by every method except the
wallet, whose purchases spend money already counted when it came in.

Business days that have ended are read from the PaymentDay rollup (a row per day × package × router
× method, not a scan of a month's payments), through its per-day × method totals on PostgreSQL
(``closed_days``); a day not over yet (today) and the part of a range that is not a whole day are
read from the payments themselves, so the figures are live.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from siteconfig import time_zone

from .models import Payment, PaymentDay, PaymentTotal, ReportTotal
from .reconciliation import day_bounds

Method = Payment.Method


@dataclass
class Day:
    day: date
    count: int
    total: Decimal
    percent: int = 0


@dataclass
class MethodFigures:
    method: str
    label: str
    count: int
    total: Decimal

    @property
    def is_revenue(self) -> bool:
        return self.method != Method.WALLET


def _split(start: datetime, end: datetime) -> tuple[date, date, Q]:
    """[start, end) as the ended business days wholly inside it ([first, stop): PaymentDay's) and a
    condition on completed_at for the rest (a partial first day, today so far)."""
    zone = time_zone.current()
    first = start.astimezone(zone).date()
    if day_bounds(first)[0] < start:
        first += timedelta(days=1)
    stop = max(first, min(end.astimezone(zone).date(), time_zone.today()))
    if first == stop:  # no whole ended day: all from the payments
        return first, stop, Q(completed_at__gte=start, completed_at__lt=end)
    rest = (Q(completed_at__gte=start, completed_at__lt=day_bounds(first)[0])
            | Q(completed_at__gte=day_bounds(stop)[0], completed_at__lt=end))
    return first, stop, rest


def closed_days(first: date, stop: date) -> QuerySet:
    """PaymentDay's figures (day, method, payments, amount, refunds, refunded) for the days [first,
    stop), router and package summed away: PaymentTotal's day rows that keep neither on PostgreSQL
    (a month is ~30 x methods rows instead of 60,000 at 500 routers), PaymentDay's own elsewhere."""
    if connection.vendor == "postgresql":
        return PaymentTotal.objects.filter(grain=ReportTotal.DAY, kept=0, day__gte=first, day__lt=stop)
    return PaymentDay.objects.filter(day__gte=first, day__lt=stop)


def month_bounds(first: date) -> tuple[datetime, datetime, int]:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day_bounds(first)[0], day_bounds(following)[0], (following - first).days


def by_day(first: date) -> list[Day]:
    """Every day of the month starting ``first``, empty days included, with its bar height in %."""
    start, end, days = month_bounds(first)
    closed_from, closed_to, rest = _split(start, end)
    found = {row["day"]: row for row in closed_days(closed_from, closed_to).exclude(method=Method.WALLET)
             .values("day").annotate(count=Sum("payments"), total=Sum("amount")).order_by()}
    live = (Payment.objects.completed().filter(rest).exclude(method=Method.WALLET)
            .annotate(day=TruncDate("completed_at", tzinfo=time_zone.current())).values("day")
            .annotate(count=Count("pk"), total=Sum("amount")).order_by())
    found.update({row["day"]: row for row in live})
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = found.get(day, {"count": 0, "total": Decimal("0.00")})
        series.append(Day(day, row["count"], row["total"]))
    peak = max(d.total for d in series) or 1
    for d in series:
        d.percent = int(d.total * 100 / peak)
    return series


def by_method(start: datetime, end: datetime) -> list[MethodFigures]:
    """Completed payments per method, every method listed; wallet purchases flagged as not revenue."""
    closed_from, closed_to, rest = _split(start, end)
    rows = {row["method"]: row for row in closed_days(closed_from, closed_to)
            .values("method").annotate(count=Sum("payments"), total=Sum("amount")).order_by()}
    live = Payment.objects.completed().filter(rest).values("method")
    for row in live.annotate(count=Count("pk"), total=Sum("amount")).order_by():
        before = rows.get(row["method"], {"count": 0, "total": Decimal("0.00")})
        rows[row["method"]] = {"count": before["count"] + row["count"], "total": before["total"] + row["total"]}
    return [MethodFigures(value, label, rows.get(value, {}).get("count", 0),
                          rows.get(value, {}).get("total") or Decimal("0.00"))
            for value, label in Method.choices]


def totals(payments) -> dict:
    """Count and sum of the completed payments among ``payments``, and of those later reversed."""
    completed = Q(status=Payment.Status.COMPLETED)
    reversed_ = completed & Q(reversed_at__isnull=False)
    sums = payments.order_by().aggregate(count=Count("pk", filter=completed), total=Sum("amount", filter=completed),
                                         reversed_count=Count("pk", filter=reversed_),
                                         reversed_total=Sum("amount", filter=reversed_))
    sums["total"] = sums["total"] or Decimal("0.00")
    sums["reversed_total"] = sums["reversed_total"] or Decimal("0.00")
    return sums
