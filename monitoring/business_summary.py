"""The nightly business summary: yesterday's revenue, logins, best-selling package and the routers down,
by SMS or e-mail to the staff who chose it on their alert preferences page (the "summary:<channel>"
routes of their AlertSubscription) and may see revenue.

Beat runs ``send_summary`` every hour; it writes the summary once per business day, from
SUMMARY_HOUR in the business time zone, when yesterday's rollups are complete. "Once" holds when two
runs meet: the day is claimed under a PostgreSQL advisory lock by the audit entry that records the
sending (object "monitoring.business_summary", id the day), written in the transaction that queues
the messages, so the second run finds it and writes nothing. The messages go through the alerts'
outbox (monitoring.alerts.outbox), so a channel that refuses is retried like an alert.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from audit import trail
from audit.models import Entry
from billing.models import Payment, PaymentDay
from hotspot.models import LoginHour
from routers.models import Router
from siteconfig import store, time_zone

from . import alert_channels
from .alerts import outbox
from .alerts.preferences import SEE_REVENUE, SUMMARY_HOUR
from .alerts.preferences import SUMMARY_CHANNELS as CHANNELS
from .alerts.preferences import SUMMARY_ROUTE as ROUTE
from .models import AlertKind, AlertMessage, AlertSubscription, Incident

# SUMMARY_HOUR: yesterday's payments and logins are rolled up every 5 minutes, long complete by then.
CLAIM_TYPE = "monitoring.business_summary"
# Routers named one by one in the summary (all are counted).
ROUTERS_NAMED = 5


@dataclass
class Figures:
    day: date
    revenue: Decimal = Decimal("0.00")
    payments: int = 0
    refunded: Decimal = Decimal("0.00")
    accepted: int = 0
    rejected: int = 0
    top_package: str = ""
    top_amount: Decimal = Decimal("0.00")
    top_count: int = 0
    routers: int = 0
    down: list[str] = field(default_factory=list)
    down_count: int = 0
    went_down: int = 0


def figures(day: date) -> Figures:
    """The day's figures from the rollups (billing.PaymentDay, hotspot.LoginHour) and the routers
    as they are now: five small aggregates, whatever the size of radacct or the payments."""
    found = Figures(day)
    paid = PaymentDay.objects.filter(day=day).exclude(method=Payment.Method.WALLET)
    totals = paid.aggregate(amount=Sum("amount"), payments=Sum("payments"), refunded=Sum("refunded"))
    found.refunded = totals["refunded"] or Decimal("0.00")
    found.revenue = (totals["amount"] or Decimal("0.00")) - found.refunded
    found.payments = totals["payments"] or 0
    top = (paid.filter(package__isnull=False).values("package__name").annotate(amount=Sum("amount"),
                                                                                count=Sum("payments"))
           .order_by("-amount", "package__name").first())
    if top:
        found.top_package, found.top_amount, found.top_count = top["package__name"], top["amount"], top["count"]
    logins = LoginHour.objects.filter(day=day).aggregate(accepted=Sum("accepted"), rejected=Sum("rejected"))
    found.accepted, found.rejected = logins["accepted"] or 0, logins["rejected"] or 0
    by_status = dict(Router.objects.values_list("status").annotate(n=Count("pk")).order_by())
    found.routers = sum(by_status.values())
    found.down = list(Router.objects.filter(status__in=[Router.Status.OFFLINE, Router.Status.ERROR])
                      .order_by("name").values_list("name", flat=True)[:ROUTERS_NAMED + 1])
    found.down_count = by_status.get(Router.Status.OFFLINE, 0) + by_status.get(Router.Status.ERROR, 0)
    start, end = _bounds(day)
    found.went_down = Incident.objects.filter(kind=AlertKind.ROUTER_OFFLINE, opened_at__gte=start,
                                              opened_at__lt=end).count()
    return found


def _bounds(day: date) -> tuple[datetime, datetime]:
    zone = time_zone.current()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), zone)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), zone)


def _kes(amount: Decimal) -> str:
    return f"KES {amount:,.2f}"


def text(found: Figures) -> str:
    """The message: its first line is an e-mail's subject; short enough for two SMS."""
    name = store.get("general.business_name")
    lines = [f"[{name}] Yesterday, {found.day:%a %-d %b %Y}",
             f"Revenue: {_kes(found.revenue)} from {found.payments} payment{'s' * (found.payments != 1)}"
             + (f" (refunded {_kes(found.refunded)})" if found.refunded else ""),
             f"Logins: {found.accepted} accepted, {found.rejected} rejected",
             f"Top package: {found.top_package}, {_kes(found.top_amount)} ({found.top_count} sold)"
             if found.top_package else "Top package: none sold"]
    if found.down_count:
        named = ", ".join(found.down[:ROUTERS_NAMED]) + (" …" if found.down_count > ROUTERS_NAMED else "")
        lines.append(f"Routers down now: {found.down_count} of {found.routers} ({named})")
    else:
        lines.append(f"Routers down now: none of {found.routers}")
    if found.went_down:
        lines.append(f"Router outages yesterday: {found.went_down}")
    lines.append(f"{settings.PORTAL_BASE_URL}/reports/profit/")
    return "\n".join(lines)


def audience() -> list[tuple[AlertSubscription, str]]:
    """(subscription, channel) of each place the summary lands: active staff who chose it on that
    channel, have its address and may see revenue; staff sharing an address get one copy."""
    found, places = [], set()
    for s in AlertSubscription.objects.select_related("user").filter(user__is_active=True).order_by("pk"):
        if not s.user.has_perm(SEE_REVENUE):
            continue
        for channel in CHANNELS:
            if s.wants(ROUTE, channel) and s.address(channel):
                place = (channel, alert_channels.normalised(channel, s.address(channel)))
                if place not in places:
                    places.add(place)
                    found.append((s, channel))
    return found


@dataclass
class Sent:
    day: date | None = None
    queued: int = 0
    skipped: str = ""
    delivered: outbox.Delivered = field(default_factory=outbox.Delivered)


def send_summary(now: datetime | None = None, deliver: bool = True) -> Sent:
    """Queue yesterday's summary to its audience once, from SUMMARY_HOUR of the business day on, and
    deliver what is due. Safe to run twice and at once."""
    now = now or timezone.now()
    local = timezone.localtime(now, time_zone.current())
    day = local.date() - timedelta(days=1)
    result = Sent(day=day)
    if local.hour < SUMMARY_HOUR:
        result.skipped = f"before {SUMMARY_HOUR:02d}:00"
        return result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [CLAIM_TYPE])
        if Entry.objects.filter(object_type=CLAIM_TYPE, object_id=day.isoformat()).exists():
            result.skipped = "already sent"
        elif not (people := audience()):
            result.skipped = "nobody chose it"
        else:
            words = text(figures(day))
            AlertMessage.objects.bulk_create([
                AlertMessage(recipient=s.user, channel=channel, address=s.address(channel),
                             kind=AlertMessage.Kind.DIGEST, text=words, created_at=now, next_attempt_at=now)
                for s, channel in people])
            trail.record("sent", object_type=CLAIM_TYPE, object_id=day.isoformat(),
                         label=f"business summary of {day:%-d %b %Y}",
                         note=f"to {len(people)} address{'es' * (len(people) != 1)}: "
                              + ", ".join(f"{s.user.get_username()} by {channel}" for s, channel in people))
            result.queued = len(people)
    if deliver:
        result.delivered = outbox.deliver_due(now)
    return result
