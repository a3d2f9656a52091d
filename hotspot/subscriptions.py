"""The subscription state machine: pending -> active -> grace -> expired; suspended; cancelled.

Every transition changes the customer's RADIUS access in the same transaction and announces itself
after commit. Sweeps (expire_due, process_grace) claim their rows with SELECT ... FOR UPDATE SKIP
LOCKED, so two workers running at once never handle the same subscription, and each reads only the
rows that are due (index on status + time). Disconnect requests leave after commit.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import live
from radius import coa, sessions
from radius import services as radius

from .models import Customer, Package, Subscription

Status = Subscription.Status
BATCH = 500
GRACE_GROUP = "grace"


class SubscriptionError(ValueError):
    pass


def _grant(subscription: Subscription, expires_at: datetime, group: str | None = None) -> None:
    customer = subscription.customer
    radius.grant_access(customer.username, customer.password, group or subscription.package.radius_group,
                        expires_at=expires_at, limits=radius.Limits(since=subscription.starts_at))


def _announce(subscription: Subscription) -> None:
    data = {"id": subscription.pk, "status": subscription.status, "customer": subscription.customer_id}
    live.publish(live.ADMIN, "subscription.changed", data)
    live.publish(live.customer_group(subscription.customer_id), "subscription.changed", data)


def _disconnect_after_commit(usernames: list[str], why: str) -> None:
    def send():
        if usernames:
            coa.disconnect_many(sessions.open_sessions().filter(username__in=usernames), requested_by=why)
    transaction.on_commit(send)


def _set(subscription: Subscription, status: str, **fields) -> Subscription:
    subscription.status = status
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.save()
    _announce(subscription)
    return subscription


@transaction.atomic
def activate(customer: Customer, package: Package, source: str, now: datetime | None = None) -> Subscription:
    """Give ``customer`` ``package`` from now, or extend what they have.

    Same package, still running: the new period is added to its end. Another package while one
    runs: the new one waits (pending) and starts when the current one ends. In grace or nothing
    running: a new subscription starts now.
    """
    now = now or timezone.now()
    # One activation per customer at a time: concurrent payments for one customer queue here.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    validity = timedelta(minutes=package.validity_minutes)
    running = (customer.subscriptions.select_for_update().select_related("package", "customer")
               .filter(status__in=[Status.ACTIVE, Status.PENDING], expires_at__gt=now).order_by("-expires_at").first())
    if running is not None and running.package_id == package.pk:
        running.expires_at += validity
        running.save(update_fields=["expires_at", "updated_at"])
        if running.status == Status.ACTIVE:
            _grant(running, running.expires_at)
        _announce(running)
        return running
    if running is not None:
        return _set(Subscription(customer=customer, package=package, source=source, starts_at=running.expires_at,
                                 expires_at=running.expires_at + validity), Status.PENDING)
    for in_grace in customer.subscriptions.select_for_update().filter(status=Status.GRACE):
        _set(in_grace, Status.EXPIRED)
    subscription = _set(Subscription(customer=customer, package=package, source=source, starts_at=now,
                                     expires_at=now + validity), Status.ACTIVE)
    subscription.customer = customer
    _grant(subscription, subscription.expires_at)
    return subscription


@dataclass
class Sweep:
    expired: list[int] = field(default_factory=list)
    to_grace: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)


def _claim(**due) -> list[Subscription]:
    """Lock a batch of due subscriptions (others' locked rows are skipped, not waited for), then
    their customers, in id order: activate() locks the customer first, so a payment and an
    expiry for one customer never interleave."""
    due = list(Subscription.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("customer", "package").filter(**due).order_by("pk")[:BATCH])
    if due:
        list(Customer.objects.select_for_update().filter(pk__in={s.customer_id for s in due}).order_by("pk")
             .values_list("pk", flat=True))
    return due


def _still_entitled(due: list[Subscription], now: datetime) -> set[int]:
    """Customers of the batch who have another subscription giving access now (bought meanwhile)."""
    return set(Subscription.objects.filter(customer__in={s.customer_id for s in due}, status=Status.ACTIVE,
                                           expires_at__gt=now).exclude(pk__in=[s.pk for s in due])
               .values_list("customer_id", flat=True))


def _finish(due: list[Subscription], status: str, now: datetime, why: str, sweep_list: list[int]) -> None:
    """Batch end of access: one UPDATE, one revoke, events and Disconnects after commit."""
    if not due:
        return
    Subscription.objects.filter(pk__in=[s.pk for s in due]).update(status=status, updated_at=now)
    keep = _still_entitled(due, now)
    ended = [s for s in due if s.customer_id not in keep]
    radius.revoke_access_many([s.customer.username for s in ended])
    events = []
    for s in due:
        data = {"id": s.pk, "status": status, "customer": s.customer_id}
        events += [(live.ADMIN, "subscription.changed", data),
                   (live.customer_group(s.customer_id), "subscription.changed", data)]
        sweep_list.append(s.pk)
    live.publish_many(events)
    _disconnect_after_commit([s.customer.username for s in ended], why)


def ensure_grace_policy() -> None:
    radius.set_group_policy(GRACE_GROUP, rate_limit=settings.HOTSPOT_GRACE_RATE_LIMIT,
                            address_list=settings.HOTSPOT_GRACE_ADDRESS_LIST, shared_users=1)


def expire_due(now: datetime | None = None) -> Sweep:
    """Subscriptions whose time is up go to their queued successor, to grace, or expire (one batch)."""
    now = now or timezone.now()
    sweep = Sweep()
    with transaction.atomic():
        due = _claim(status=Status.ACTIVE, expires_at__lte=now)
        if not due:
            return sweep
        successors = {}
        for pending in (Subscription.objects.select_for_update().select_related("package", "customer")
                        .filter(customer__in={s.customer_id for s in due}, status=Status.PENDING)
                        .order_by("-starts_at")):
            successors[pending.customer_id] = pending  # the earliest wins: ordered last
        plain, graced, walled = [], [], []
        for subscription in due:
            successor = successors.get(subscription.customer_id)
            if successor is not None:
                _set(subscription, Status.EXPIRED)
                _set(successor, Status.ACTIVE)
                _grant(successor, successor.expires_at)
                sweep.expired.append(subscription.pk)
                sweep.started.append(successor.pk)
            elif subscription.package.grace_minutes:
                graced.append(subscription)
            else:
                plain.append(subscription)
        if graced:
            ensure_grace_policy()
        keep = _still_entitled(graced, now) if graced else set()
        for subscription in graced:
            until = subscription.expires_at + timedelta(minutes=subscription.package.grace_minutes)
            _set(subscription, Status.GRACE, grace_until=until)
            sweep.to_grace.append(subscription.pk)
            if subscription.customer_id not in keep:
                # Soft block: still authenticates, into the walled garden only (router address list).
                _grant(subscription, until, group=GRACE_GROUP)
                walled.append(subscription.customer.username)
        # Sessions opened under the paid policy end; in grace they come back walled in.
        _disconnect_after_commit(walled, "expiry")
        _finish(plain, Status.EXPIRED, now, "expiry", sweep.expired)
    return sweep


def process_grace(now: datetime | None = None) -> Sweep:
    """Grace periods that are over: expired, access revoked, sessions disconnected (one batch)."""
    now = now or timezone.now()
    sweep = Sweep()
    with transaction.atomic():
        _finish(_claim(status=Status.GRACE, grace_until__lte=now), Status.EXPIRED, now, "grace over", sweep.expired)
    return sweep


def _stop(subscription: Subscription, status: str, why: str) -> Subscription:
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().select_related("customer", "package").get(pk=subscription.pk)
        if locked.status not in (Status.ACTIVE, Status.GRACE, Status.PENDING):
            raise SubscriptionError(f"A {locked.get_status_display().lower()} subscription cannot be {status}.")
        was_running = locked.status in (Status.ACTIVE, Status.GRACE)
        _set(locked, status)
        if was_running:
            radius.revoke_access(locked.customer.username)
            _disconnect_after_commit([locked.customer.username], why)
    return locked


def suspend(subscription: Subscription, by: str = "") -> Subscription:
    return _stop(subscription, Status.SUSPENDED, f"suspended by {by}".strip())


def cancel(subscription: Subscription, by: str = "") -> Subscription:
    return _stop(subscription, Status.CANCELLED, f"cancelled by {by}".strip())


@transaction.atomic
def resume(subscription: Subscription, now: datetime | None = None) -> Subscription:
    """A suspended subscription runs again until its end date (or expires, if that has passed)."""
    now = now or timezone.now()
    locked = Subscription.objects.select_for_update().select_related("customer", "package").get(pk=subscription.pk)
    if locked.status != Status.SUSPENDED:
        raise SubscriptionError("Only a suspended subscription can be resumed.")
    if locked.expires_at <= now:
        return _set(locked, Status.EXPIRED)
    _set(locked, Status.ACTIVE)
    _grant(locked, locked.expires_at)
    return locked


def disconnect_unentitled_sessions(limit: int = BATCH) -> int:
    """Open sessions of usernames FreeRADIUS would now refuse (a Disconnect got lost or refused):
    ask their routers again. Reads open sessions only (partial index), at most ``limit``."""
    from radius.models import RadAcct, RadCheck

    entitled = RadCheck.objects.filter(attribute="Cleartext-Password").values("username")
    stray = list(RadAcct.objects.filter(acct_stop_time__isnull=True).exclude(username__in=entitled)
                 .order_by("acct_start_time")[:limit])
    coa.disconnect_many(stray, requested_by="sweep")
    return len(stray)
