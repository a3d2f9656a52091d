"""Alert messages: written to an outbox (monitoring.AlertMessage) inside the transaction that decides
them, delivered after commit by whoever claims them first.

The trade-off is receipts' (billing/receipts.py): a message is marked "sending" before it is handed to
its channel, so two deliverers never send it twice and a crash mid-send loses that one message rather
than repeating it; a channel that refuses is tried again (three times, later each time, or when
Telegram says) and then left "failed" with its reason for the alerts page.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from siteconfig import store, time_zone

from .. import alert_channels
from ..models import AlertMessage, AlertSubscription, Incident
from .rules import at

log = logging.getLogger(__name__)
Kind, State = AlertMessage.Kind, AlertMessage.State
VIEW = "monitoring.view_incident"
BATCH = 100
MAX_ATTEMPTS = 3
# A message left "sending" this long was interrupted (a killed worker): whether it arrived is unknown.
STUCK = timedelta(minutes=10)
# The daily digest goes out with the first evaluation after this hour of the business day.
DIGEST_HOUR = 7
# The open incidents a digest names one by one (it counts them all).
DIGEST_LISTS = 20


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)


class Audience:
    """The staff who get each kind of alert on each channel, read once per evaluation: active, still
    allowed to see incidents, with an address for the channel."""

    def __init__(self):
        self._subscriptions = None

    def subscriptions(self) -> list[AlertSubscription]:
        if self._subscriptions is None:
            self._subscriptions = [s for s in AlertSubscription.objects.select_related("user")
                                   .filter(user__is_active=True).order_by("pk") if s.user.has_perm(VIEW)]
        return self._subscriptions

    def for_kind(self, kind: str) -> list[tuple[AlertSubscription, str]]:
        """Who is told about ``kind`` on which channel: once per place a message lands, so staff
        sharing an address (a Telegram group, a shared mailbox) get one copy, its row the first
        subscriber's."""
        found, places = [], set()
        for s in self.subscriptions():
            for channel in alert_channels.CHANNELS:
                if s.wants(kind, channel) and s.address(channel):
                    place = (channel, alert_channels.normalised(channel, s.address(channel)))
                    if place not in places:
                        places.add(place)
                        found.append((s, channel))
        return found


def queue(incident: Incident, kind: str, now: datetime, audience: Audience) -> int:
    """Write one message about ``incident`` to everyone who chose its kind, per channel chosen."""
    words = text(incident, kind, now)
    rows = [AlertMessage(incident=incident, recipient=s.user, channel=channel, address=s.address(channel), kind=kind,
                         text=words, created_at=now, next_attempt_at=now)
            for s, channel in audience.for_kind(incident.kind)]
    AlertMessage.objects.bulk_create(rows)
    return len(rows)


def duration(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} days {hours % 24} h"


def text(incident: Incident, kind: str, now: datetime) -> str:
    """The message: its first line says what happened (an e-mail's subject), then the rule's words."""
    what = f"{incident.get_kind_display()}: {incident.label}"
    name = store.get("general.business_name")
    where = f"{settings.PORTAL_BASE_URL}/alerts/"
    if kind == Kind.OPENED:
        lines = [f"ALERT {what}", incident.detail, f"Opened {at(incident.opened_at)}. Acknowledge: {where}"]
    elif kind == Kind.AGAIN:
        flap = store.get("alerts.flap_minutes")
        lines = [f"FAILING AGAIN {what}", incident.detail,
                 f"It resolved {at(incident.told_at)} and failed again. Until it stays up {flap} min, "
                 f"its changes are grouped into this incident: {where}"]
    elif kind == Kind.REMINDER:
        lines = [f"STILL FAILING {what}", incident.detail,
                 f"Open since {at(incident.opened_at)} ({duration(now - incident.opened_at)}), not acknowledged: "
                 f"{where}"]
    else:
        flapped = f", after failing again {incident.flaps} times" if incident.flaps else ""
        lines = [f"RESOLVED {what}",
                 f"Resolved {at(incident.resolved_at)}, {duration(incident.resolved_at - incident.opened_at)} "
                 f"after it opened{flapped}."]
    return "\n".join([f"[{name}] {lines[0]}", *lines[1:]])


# --- the daily digest ----------------------------------------------------------------------------


def queue_digests(now: datetime, audience: Audience) -> int:
    """Once per business day, from DIGEST_HOUR on: each subscriber who asked for the digest gets one
    summary of the last 24 hours. The day is claimed with a conditional UPDATE in the transaction
    that writes the message, so two evaluators write it once."""
    local = timezone.localtime(now, time_zone.current())
    if local.hour < DIGEST_HOUR:
        return 0
    today = local.date()
    wanting = [s.pk for s in audience.subscriptions() if s.digest_channel and s.address(s.digest_channel)
               and s.digest_sent_on != today]
    if not wanting:
        return 0
    words = digest_text(now)
    not_yet = Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today)
    with transaction.atomic():
        # All of today's in one claim, so staff sharing an address get one digest even when another
        # evaluator claims at the same moment (it skips these rows, then finds them sent today).
        claimed = list(AlertSubscription.objects.select_for_update(skip_locked=True)
                       .filter(not_yet, pk__in=wanting).order_by("pk"))
        AlertSubscription.objects.filter(pk__in=[s.pk for s in claimed]).update(digest_sent_on=today)
        rows, places = [], set()
        for subscription in claimed:
            channel = subscription.digest_channel
            address = subscription.address(channel)
            place = (channel, alert_channels.normalised(channel, address))
            if address and place not in places:
                places.add(place)
                rows.append(AlertMessage(recipient_id=subscription.user_id, channel=channel, kind=Kind.DIGEST,
                                         address=address, text=words, created_at=now, next_attempt_at=now))
        AlertMessage.objects.bulk_create(rows)
    return len(rows)


def digest_text(now: datetime) -> str:
    since = now - timedelta(hours=24)
    opened = Incident.objects.filter(opened_at__gt=since, opened_at__lte=now)
    resolved = Incident.objects.filter(resolved_at__gt=since, resolved_at__lte=now)
    open_now = Incident.objects.filter(resolved_at__isnull=True, opened_at__lte=now)
    count = open_now.count()
    still = list(open_now.order_by("opened_at", "pk")[:DIGEST_LISTS])
    name = store.get("general.business_name")
    lines = [f"[{name}] Alerts digest, {at(now)}",
             f"Last 24 h: {opened.count()} opened, {resolved.count()} resolved; {count} open now."]
    for incident in still:
        acked = f", acknowledged by {incident.acknowledged_by_name}" if incident.acknowledged_at else ""
        lines.append(f"- {incident.get_kind_display()}: {incident.label} (since {at(incident.opened_at)}{acked})")
    if count > len(still):
        lines.append(f"… and {count - len(still)} more (the oldest are listed).")
    if not count:
        lines.append("Nothing is failing.")
    lines.append(f"{settings.PORTAL_BASE_URL}/alerts/")
    return "\n".join(lines)


# --- delivery ------------------------------------------------------------------------------------


def deliver_due(now: datetime | None = None, limit: int = 1000) -> Delivered:
    """Hand every message due to its channel; safe to run twice and concurrently (SKIP LOCKED claims,
    marked "sending" before sending)."""
    now = now or timezone.now()
    result = Delivered()
    AlertMessage.objects.filter(state=State.SENDING, next_attempt_at__lt=now - STUCK).update(
        state=State.FAILED, error="interrupted while sending: it may or may not have arrived")
    while limit > 0:
        with transaction.atomic():
            batch = list(AlertMessage.objects.select_for_update(skip_locked=True)
                         .filter(state=State.PENDING, next_attempt_at__lte=now).order_by("pk")[:min(BATCH, limit)])
            for message in batch:
                message.state, message.attempts, message.next_attempt_at = State.SENDING, message.attempts + 1, now
            AlertMessage.objects.bulk_update(batch, ["state", "attempts", "next_attempt_at"])
        if not batch:
            break
        limit -= len(batch)
        for message in batch:
            _deliver(message, now, result)
    return result


def _deliver(message: AlertMessage, now: datetime, result: Delivered) -> None:
    """Hand one claimed message to its channel and keep how it went. Whatever goes wrong with one
    (a refusal, or a bug a stored address trips) is that message's failed attempt: the rest of the
    batch, already marked "sending", is still delivered."""
    try:
        alert_channels.send(message.channel, message.address, message.text)
    except Exception as failure:  # noqa: BLE001 - one message's failure must not stop the batch
        if isinstance(failure, alert_channels.DeliveryFailed):
            message.error, retry_after = str(failure)[:300], failure.retry_after
            log.warning("alert %s by %s to %s not delivered: %s", message.pk, message.channel, message.address,
                        message.error)
        else:
            message.error, retry_after = f"{type(failure).__name__}: {failure}"[:300], None
            log.exception("alert %s by %s to %s not delivered: it raised", message.pk, message.channel,
                          message.address)
        if message.attempts < MAX_ATTEMPTS:
            wait = max(retry_after or 0, 60 * message.attempts)
            message.state, message.next_attempt_at = State.PENDING, now + timedelta(seconds=wait)
            result.retrying += 1
        else:
            message.state = State.FAILED
            result.failed += 1
        result.errors.append(message.error)
    else:
        message.state, message.sent_at, message.error = State.SENT, timezone.now(), ""
        result.sent += 1
    message.save(update_fields=["state", "sent_at", "error", "next_attempt_at"])
