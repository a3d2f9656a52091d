"""SMS to customers whose running plan reached 80 % and 100 % of its period's data allowance, each once
per period (issue 20).

Counted by hotspot.fair_use.standing, as FreeRADIUS counts: boosts raise the allowance. The daily cap
is not texted: it comes back every midnight, so a text per day would be noise; the account page shows
it. Once per period: the AllowanceAlert row (unique per subscription, period start and threshold) is
inserted before the SMS leaves and only the run whose insert succeeds sends, so runs twice or side by
side send once. A renewal that starts a new period (a new subscription, or the same row's starts_at
moved) is a new key, so it texts again. A plan that jumps past 100 % between runs gets the 100 % text
only, its 80 % recorded as skipped.

Cost per run: one query for the candidates, which are running subscriptions of packages with a period
allowance, of customers with a phone, not yet texted at 100 % this period, whose user has a session of
this period open or stopped within RECENT (nobody else's usage can have grown; radacct's (username,
acctstarttime) index bounds that probe); then standing()'s two indexed aggregates per candidate. So
the work follows the users online on allowance plans, not the customer base.
"""
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from hotspot import fair_use
from hotspot.models import Subscription
from radius.models import RadAcct

from . import messages, notifications
from .models import AllowanceAlert
from .notifications import Sent

log = logging.getLogger(__name__)
Threshold = AllowanceAlert.Threshold
# Sessions stopped this long ago may still have raised the usage since the last run: longer than the
# beat interval (60 s) so a run that came late or failed once still looks at them.
RECENT = timedelta(minutes=10)


def candidates(now: datetime):
    """Running plans with a period allowance whose usage may have grown since the last run."""
    this_period = RadAcct.objects.filter(username=OuterRef("customer__username"),
                                         acct_start_time__gte=OuterRef("starts_at")).filter(
        Q(acct_stop_time__isnull=True) | Q(acct_stop_time__gte=now - RECENT))
    used_up = AllowanceAlert.objects.filter(subscription=OuterRef("pk"), since=OuterRef("starts_at"),
                                            threshold=Threshold.USED_UP)
    return (Subscription.objects.active(now).select_related("customer", "package")
            .filter(package__data_limit_mb__gt=0, customer__phone__gt="", customer__status="active")
            .filter(Exists(this_period)).exclude(Exists(used_up)).order_by("pk"))


def reached(standing: fair_use.Standing) -> list[int]:
    """The thresholds of the period allowance reached, the highest first."""
    used, left = standing.period_used, standing.period_left
    if left is None:
        return []
    if left == 0:
        return [Threshold.USED_UP, Threshold.NEAR]
    return [Threshold.NEAR] if used * 100 >= (used + left) * Threshold.NEAR else []


def _claim(subscription: Subscription, threshold: int, message: str) -> AllowanceAlert | None:
    try:
        with transaction.atomic():
            return AllowanceAlert.objects.create(subscription=subscription, since=subscription.starts_at,
                                                 threshold=threshold, message=message)
    except IntegrityError:
        return None  # texted (or skipped) before, or by a run beside us


def send_due(now: datetime | None = None) -> Sent:
    now = now or timezone.now()
    result = Sent()
    for subscription in candidates(now):
        standing = fair_use.standing(subscription, now)
        for position, threshold in enumerate(reached(standing) if standing else []):
            alert = _claim(subscription, threshold,
                           messages.allowance_reached(subscription, threshold, standing) if position == 0 else "")
            if alert is None:
                continue
            if position > 0:
                alert.error = "skipped: the allowance was used up before the 80 % text went"
                alert.save(update_fields=["error"])
                result.skipped += 1
                continue
            customer = subscription.customer
            note = notifications.send_sms(customer.phone or "", alert.message, customer)
            if note.status == note.Status.SENT:
                alert.sent_at = timezone.now()
                result.sent += 1
            else:
                alert.error = note.error
                result.failed += 1
            alert.save(update_fields=["sent_at", "error"])
    if result.sent or result.failed:
        log.info("allowance alerts: %d sent, %d failed, %d skipped", result.sent, result.failed, result.skipped)
    return result
