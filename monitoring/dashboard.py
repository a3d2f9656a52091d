"""The dashboard's figures, computed from the other apps' models and trimmed to the viewer's role."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from billing import revenue
from billing.models import Payment
from billing.reconciliation import day_bounds
from hotspot.models import Customer, Subscription
from routers.models import Router
from siteconfig import time_zone

from . import health, jobs, sampling
from .models import TaskFailure, UsersOnlineSample
from .reports.frame import Chart, Column, Table

# Events that change a figure on the dashboard; the page re-renders its cards when one arrives.
LIVE_EVENTS = (
    "customer.created", "customer.updated", "subscription.changed",
    "payment.completed", "router.status", "session.disconnected", sampling.EVENT,
)
# The health and queue cards are re-checked when the sampler runs (every 5 minutes).
OPERATIONS_EVENTS = (sampling.EVENT,)
USERS_ONLINE_EVENTS = (sampling.EVENT,)  # the chart gains its new sample
WORKER_PING_TIMEOUT = 1.0  # seconds: a ping waits this long for every answer, so the cards load after the page


@dataclass
class Stats:
    customers: int | None = None
    active_subscriptions: int | None = None
    revenue_today: Decimal | None = None
    revenue_month: Decimal | None = None
    routers_online: int | None = None
    routers_total: int | None = None
    users_online: int | None = None


def _local_midnight(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def stats_for(user, now: datetime | None = None) -> Stats:
    """One query per card group, and only for cards the user's role may see."""
    now = now or timezone.now()
    stats = Stats()
    if user.has_perm("hotspot.view_customer"):
        stats.customers = Customer.objects.count()
    if user.has_perm("hotspot.view_subscription"):
        stats.active_subscriptions = Subscription.objects.active(now).count()
    if user.has_perm("billing.view_revenue"):
        today = _local_midnight(now)
        month = today.replace(day=1)
        sums = Payment.objects.completed().filter(completed_at__gte=month).aggregate(
            today=Sum("amount", filter=Q(completed_at__gte=today)), month=Sum("amount"))
        stats.revenue_today = sums["today"] or Decimal("0")
        stats.revenue_month = sums["month"] or Decimal("0")
    if user.has_perm("routers.view_router"):
        counts = Router.objects.aggregate(total=Count("id"), online=Count("id", filter=Q(status=Router.Status.ONLINE)))
        stats.routers_online, stats.routers_total = counts["online"], counts["total"]
    if user.has_perm("radius.view_radacct"):
        stats.users_online = sampling.users_online()
    return stats


def revenue_days(days: int = 30, now: datetime | None = None) -> Table:
    """Net revenue per business day of the last ``days``, today included: closed days from the
    PaymentDay rollup (its per-day totals: billing.revenue.closed_days), today live from today's
    payments (the rollup may be five minutes behind). Two queries; counted as PaymentDay counts (no
    wallet, refunds taken off)."""
    now = now or timezone.now()
    today = timezone.localtime(now, time_zone.current()).date()
    first = today - timedelta(days=days - 1)
    closed = dict(revenue.closed_days(first, today).exclude(method=Payment.Method.WALLET).values("day")
                  .annotate(net=Sum("amount") - Sum("refunded")).order_by().values_list("day", "net"))
    start, end = day_bounds(today)
    live = (Payment.objects.completed().exclude(method=Payment.Method.WALLET)
            .filter(completed_at__gte=start, completed_at__lt=end)
            .aggregate(received=Sum("amount"), gave_back=Sum("amount", filter=Q(reversed_at__isnull=False))))
    closed[today] = (live["received"] or 0) - (live["gave_back"] or 0)
    rows = [(first + timedelta(days=n), Decimal(closed.get(first + timedelta(days=n)) or 0).quantize(Decimal("0.01")))
            for n in range(days)]
    return Table("Revenue, last 30 days", [Column("day", "Day", "date"), Column("net", "Net revenue (KES)", "money")],
                 rows, Chart(("net",), unit="KES"), totals={"30 days (KES)": sum(net for _, net in rows)})


def users_online_table(chart: list[dict]) -> Table:
    """users_online_chart as a report table (chart and values); an hour without a sample is a gap in
    the line and a dash in the table, not a zero."""
    if all(hour["users"] is None for hour in chart):
        return Table("Customers online", [Column("hour", "Hour", "moment"), Column("users", "Most online")], [])
    return Table("Customers online", [Column("hour", "Hour", "moment"), Column("users", "Most online")],
                 [(hour["hour"], hour["users"]) for hour in chart], Chart(("users",)))


def recent_payments(limit: int = 8) -> list[Payment]:
    return list(Payment.objects.select_related("customer", "package").order_by("-created_at")[:limit])


def users_online_chart(hours: int = 24, now: datetime | None = None) -> list[dict]:
    """The peak of the users-online samples in each hour (local time) of the last ``hours``, oldest
    first, hours without a sample included (``users`` None); one query."""
    now = timezone.localtime(now or timezone.now())
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    rows = (UsersOnlineSample.objects.filter(at__gte=start, at__lt=end).order_by()
            .annotate(hour=TruncHour("at")).values("hour").annotate(peak=Max("users")))
    peaks = {row["hour"]: row["peak"] for row in rows}
    series = [{"hour": start + timedelta(hours=i), "users": peaks.get(start + timedelta(hours=i))}
              for i in range(hours)]
    top = max((s["users"] or 0 for s in series), default=0) or 1
    for s in series:
        s["percent"] = int((s["users"] or 0) * 100 / top)
    return series


@dataclass
class Queues:
    """The queue card: ``eager`` when there is no broker (tasks run in-process as they are called)."""

    eager: bool
    failed_24h: int
    depths: list = field(default_factory=list)
    workers: int | None = None
    error: str = ""


def queues(now: datetime | None = None) -> Queues:
    now = now or timezone.now()
    card = Queues(eager=jobs.eager(),
                  failed_24h=TaskFailure.objects.filter(failed_at__gte=now - timedelta(hours=24)).count())
    if card.eager:
        return card
    try:
        card.depths = jobs.queue_depths()
        card.workers = len(jobs.workers_alive(WORKER_PING_TIMEOUT))
    except Exception as error:  # noqa: BLE001 - a broker that is down is what the card is for
        card.error = f"{type(error).__name__}: {error}"[:200]
    return card


def operations() -> dict:
    """The health card (the same checks as /health/) and the queue card, for Admins and Technicians."""
    parts = health.components()
    return {"parts": parts, "overall": health.overall(parts), "queues": queues()}
