"""The subscription state machine: pending -> active -> grace -> expired; suspended; cancelled.

Every transition changes the customer's RADIUS access in the same transaction and announces itself
after commit. Sweeps (expire_due, process_grace) claim their rows with SELECT ... FOR UPDATE SKIP
LOCKED, so two workers running at once never handle the same subscription, and each reads only the
rows that are due (index on status + time). Disconnect requests leave after commit.

Each transition writes an audit entry about the subscription in the same transaction; a sweep
writes its batch's entries in one INSERT (actor: the job that runs it).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit import trail
from lib import live
from radius import coa, fair_use, sessions
from radius import services as radius
from siteconfig import store

from . import pppoe
from .models import Boost, Customer, Package, PackageKind, Subscription

Status = Subscription.Status
BATCH = 500
GRACE_GROUP = "grace"


class SubscriptionError(ValueError):
    pass


def _label(subscription: Subscription) -> str:
    # Not str(): that names the status, which each entry's changes already tell.
    return f"{subscription.customer} · {subscription.package}"


def _record(action: str, subscription: Subscription, changes: dict, note: str = "") -> None:
    trail.record(action, subscription, changes=changes, note=note, label=_label(subscription))


def _record_many(rows: list[tuple[str, Subscription, dict, str]]) -> None:
    """A sweep's entries, (action, subscription, changes, note) each, in one INSERT."""
    trail.record_many([{"action": action, "obj": s, "changes": changes, "note": note, "label": _label(s)}
                       for action, s, changes, note in rows])


def _status(before: str, after: str) -> dict:
    return {"status": [before, after]}


def lock_customers(ids) -> None:
    """Row-lock customers, in id order: one activation per customer at a time, and every writer
    of a customer's subscriptions takes this lock before theirs."""
    list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _lock_fresh(customer: Customer) -> None:
    """Lock the customer and re-read, under the lock, what their access is written from: staff may
    have deactivated them or changed the password since the caller read the row."""
    customer.status, customer.username, customer.password = (
        Customer.objects.select_for_update().values_list("status", "username", "password").get(pk=customer.pk))


def _grant(subscription: Subscription, expires_at: datetime, group: str | None = None) -> None:
    customer = subscription.customer
    if customer.status != Customer.Status.ACTIVE:
        # A deactivated customer's subscriptions run on, but give no access until reactivated.
        radius.revoke_access(customer.username)
        return
    radius.grant_access(customer.username, customer.password, group or subscription.package.radius_group,
                        expires_at=expires_at, limits=radius.Limits(since=subscription.starts_at),
                        reply=pppoe.radius_reply(customer))


def restore_access(subscription: Subscription) -> None:
    """Write RADIUS access for a running subscription again (e.g. a customer reactivated)."""
    _grant(subscription, subscription.expires_at)


def _announce(subscription: Subscription) -> None:
    data = {"id": subscription.pk, "status": subscription.status, "customer": subscription.customer_id}
    live.publish_many([(group, "subscription.changed", data)
                       for group in (live.ADMIN, live.customer_group(subscription.customer_id))])


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


def _open_rows(customer: Customer, now: datetime, exclude: int | None = None) -> tuple[Subscription | None, list]:
    """The subscription a new purchase follows (the running one, or the last queued behind it),
    and those in grace: one locked read of the customer's running, queued and grace rows."""
    # Only the subscription rows are locked: a join locked without OF would lock the package
    # row too, and every renewal of a popular package would queue behind one another.
    rows = (customer.subscriptions.select_for_update(of=("self",)).select_related("package")
            .filter(status__in=(Status.ACTIVE, Status.PENDING, Status.GRACE)).order_by("-expires_at", "-pk"))
    rows = list(rows.exclude(pk=exclude) if exclude is not None else rows)
    for row in rows:
        row.customer = customer
    in_grace = [row for row in rows if row.status == Status.GRACE]
    running = [row for row in rows if row.status == Status.ACTIVE and row.expires_at > now]
    if not running:
        return None, in_grace
    return next((row for row in rows if row.status == Status.PENDING), running[0]), in_grace


def running(customer: Customer, now: datetime | None = None) -> Subscription | None:
    """The subscription giving ``customer`` access now (what a boost adds to), if any."""
    now = now or timezone.now()
    return (customer.subscriptions.select_related("package").filter(status=Status.ACTIVE, expires_at__gt=now)
            .order_by("-starts_at").first())


def _boost(customer: Customer, package: Package, source: str, now: datetime) -> Subscription | None:
    """Add a boost to the running subscription (the customer is locked): its data, or full speed,
    until the boost's time is up or the subscription ends, whichever is first. Several stack.
    Nothing running (it ended between the purchase and the payment): None, the money stays."""
    current = (customer.subscriptions.select_for_update(of=("self",)).select_related("package")
               .filter(status=Status.ACTIVE, expires_at__gt=now).order_by("-starts_at").first())
    if current is None:
        return None
    until = min(now + timedelta(minutes=package.validity_minutes), current.expires_at)
    boost = Boost.objects.create(subscription=current, package=package, source=source,
                                 megabytes=package.data_limit_mb, until=until, created_at=now)
    fair_use.add_boost(customer.username, current.starts_at, extra_bytes=(package.data_limit_mb or 0) * 2**20,
                       full_speed=not package.data_limit_mb, until=until)
    what = f"+{package.data_limit_mb} MB" if package.data_limit_mb else "full speed"
    _record("boosted", current, {"boost": [None, boost.pk]}, f"{package}: {what} until {until:%Y-%m-%d %H:%M} "
                                                             f"({source})")
    _announce(current)
    if customer.status == Customer.Status.ACTIVE:
        # MikroTik reads 0/0 as no limit: a package without a rate goes back to none.
        rate, username = current.package.rate_limit or "0/0", customer.username
        transaction.on_commit(lambda: fair_use.restore_full_rate(username, rate), robust=True)
    return current


@transaction.atomic(savepoint=False)  # a payment's part: no savepoint round trips of its own
def activate(customer: Customer, package: Package, source: str, now: datetime | None = None) -> Subscription | None:
    """Give ``customer`` ``package`` from now, or extend what they have.

    Same package at the end of what runs (and no data allowance): the period is added to its end.
    Otherwise, while something runs, the new one is queued (pending) after it, so a data allowance
    counts afresh. In grace or with nothing running: a new subscription starts now. A boost adds
    to the running subscription and returns it (None when nothing runs: see _boost).
    """
    now = now or timezone.now()
    _lock_fresh(customer)  # concurrent payments for one customer queue here
    if package.kind == PackageKind.BOOST:
        return _boost(customer, package, source, now)
    validity = timedelta(minutes=package.validity_minutes)
    tail, in_grace = _open_rows(customer, now)
    if tail is not None and tail.package_id == package.pk and not package.data_limit_mb:
        until = tail.expires_at
        tail.expires_at += validity
        tail.save(update_fields=["expires_at", "updated_at"])
        _record("activated", tail, {"expires_at": [until, tail.expires_at]}, f"extended ({source})")
        if tail.status == Status.ACTIVE:
            _grant(tail, tail.expires_at)
        _announce(tail)
        return tail
    if tail is not None:
        queued = _set(Subscription(customer=customer, package=package, source=source, starts_at=tail.expires_at,
                                   expires_at=tail.expires_at + validity), Status.PENDING)
        _record("activated", queued, _status(None, Status.PENDING), f"queued after what runs ({source})")
        return queued
    for row in in_grace:
        _set(row, Status.EXPIRED)
        _record("expired", row, _status(Status.GRACE, Status.EXPIRED), "paid during grace")
    subscription = _set(Subscription(customer=customer, package=package, source=source, starts_at=now,
                                     expires_at=now + validity), Status.ACTIVE)
    _record("activated", subscription, _status(None, Status.ACTIVE), f"new ({source})")
    subscription.customer = customer
    _grant(subscription, subscription.expires_at)
    if in_grace:  # the open session still has the walled-garden policy: reconnect into the paid one
        _disconnect_after_commit([customer.username], "paid during grace")
    return subscription


@dataclass
class Sweep:
    expired: list[int] = field(default_factory=list)
    to_grace: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)


def _claim(**due) -> list[Subscription]:
    """Lock a batch of customers with subscriptions due, then those subscriptions.

    Customer first, as a payment (and every other writer of subscriptions) locks: the two never
    deadlock. Rows another transaction holds are skipped, not waited for: a customer a payment
    holds, or another sweep's batch, is left for the next run, and a payment never waits for a
    sweep that has not touched its customer."""
    customers = list(Customer.objects.select_for_update(skip_locked=True)
                     .filter(pk__in=Subscription.objects.filter(**due).values("customer_id"))
                     .order_by("pk").values_list("pk", flat=True)[:BATCH])
    if not customers:
        return []
    return list(Subscription.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer", "package").filter(customer__in=customers, **due).order_by("pk"))


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
    # The rows in memory still hold the status they had: the update went to the table only.
    _record_many([("expired", s, _status(s.status, status), why) for s in due])
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
    grace = store.section("radius")
    radius.set_group_policy(GRACE_GROUP, rate_limit=grace.grace_rate, address_list=grace.grace_address_list,
                            shared_users=1)


def expire_due(now: datetime | None = None) -> Sweep:
    """Subscriptions whose time is up go to their queued successor, to grace, or expire (one batch)."""
    now = now or timezone.now()
    sweep = Sweep()
    with transaction.atomic():
        due = _claim(status=Status.ACTIVE, expires_at__lte=now)
        if not due:
            return sweep
        successors = {}
        for pending in (Subscription.objects.select_for_update(of=("self",)).select_related("package", "customer")
                        .filter(customer__in={s.customer_id for s in due}, status=Status.PENDING)
                        .order_by("-starts_at")):
            successors[pending.customer_id] = pending  # the earliest wins: ordered last
        plain, graced, walled, entries = [], [], [], []
        for subscription in due:
            successor = successors.get(subscription.customer_id)
            if successor is not None:
                _set(subscription, Status.EXPIRED)
                _set(successor, Status.ACTIVE)
                entries += [("expired", subscription, _status(Status.ACTIVE, Status.EXPIRED), "expiry"),
                            ("activated", successor, _status(Status.PENDING, Status.ACTIVE), "queued, started")]
                _grant(successor, successor.expires_at)
                sweep.expired.append(subscription.pk)
                sweep.started.append(successor.pk)
                walled.append(subscription.customer.username)  # reconnect under the new policy
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
            entries.append(("grace_started", subscription,
                            {**_status(Status.ACTIVE, Status.GRACE), "grace_until": [None, str(until)]}, "expiry"))
            sweep.to_grace.append(subscription.pk)
            if subscription.customer_id not in keep:
                # Soft block: still authenticates, into the walled garden only (router address list).
                _grant(subscription, until, group=GRACE_GROUP)
                walled.append(subscription.customer.username)
        # Sessions opened under the paid policy end; in grace they come back walled in.
        _disconnect_after_commit(walled, "expiry")
        _record_many(entries)
        _finish(plain, Status.EXPIRED, now, "expiry", sweep.expired)
    return sweep


def process_grace(now: datetime | None = None) -> Sweep:
    """Grace periods that are over: expired, access revoked, sessions disconnected (one batch)."""
    now = now or timezone.now()
    sweep = Sweep()
    with transaction.atomic():
        _finish(_claim(status=Status.GRACE, grace_until__lte=now), Status.EXPIRED, now, "grace over", sweep.expired)
    return sweep


def _follow_on(customer: Customer, now: datetime, why: str) -> None:
    """After a subscription stops early: what else the customer has takes over, or access ends."""
    rest = customer.subscriptions.select_for_update(of=("self",)).select_related("package", "customer")
    running = rest.filter(status=Status.ACTIVE, expires_at__gt=now).order_by("-expires_at").first()
    if running is None:
        queued = rest.filter(status=Status.PENDING).order_by("starts_at").first()
        if queued is not None:  # it starts now, for its full length
            length = queued.expires_at - queued.starts_at
            running = _set(queued, Status.ACTIVE, starts_at=now, expires_at=now + length)
            _record("activated", running, _status(Status.PENDING, Status.ACTIVE), f"queued, started early: {why}")
    if running is not None:
        _grant(running, running.expires_at)
    else:
        radius.revoke_access(customer.username)
    _disconnect_after_commit([customer.username], why)


def _stop(subscription: Subscription, status: str, why: str, now: datetime | None = None) -> Subscription:
    now = now or timezone.now()
    with transaction.atomic():
        lock_customers([subscription.customer_id])
        locked = (Subscription.objects.select_for_update(of=("self",)).select_related("customer", "package")
                  .get(pk=subscription.pk))
        if locked.status not in (Status.ACTIVE, Status.GRACE, Status.PENDING):
            raise SubscriptionError(f"A {locked.get_status_display().lower()} subscription cannot be {status}.")
        was, was_running = locked.status, locked.status in (Status.ACTIVE, Status.GRACE)
        _set(locked, status)
        # The status is the verb (suspended, cancelled); the note only when it says more (by whom).
        _record(status, locked, _status(was, status), why if why != status else "")
        if was_running:
            _follow_on(locked.customer, now, why)
    return locked


def suspend(subscription: Subscription, by: str = "") -> Subscription:
    return _stop(subscription, Status.SUSPENDED, f"suspended by {by}" if by else "suspended")


def cancel(subscription: Subscription, by: str = "") -> Subscription:
    return _stop(subscription, Status.CANCELLED, f"cancelled by {by}" if by else "cancelled")


@transaction.atomic
def resume(subscription: Subscription, now: datetime | None = None) -> Subscription:
    """A suspended subscription runs again until its end date (or expires if that has passed);
    if the customer bought something meanwhile, its remaining time is queued after that."""
    now = now or timezone.now()
    lock_customers([subscription.customer_id])
    locked = (Subscription.objects.select_for_update(of=("self",)).select_related("customer", "package")
              .get(pk=subscription.pk))
    if locked.status != Status.SUSPENDED:
        raise SubscriptionError("Only a suspended subscription can be resumed.")
    if locked.expires_at <= now:
        _record("expired", locked, _status(Status.SUSPENDED, Status.EXPIRED), "resumed after its end")
        return _set(locked, Status.EXPIRED)
    tail, _ = _open_rows(locked.customer, now, exclude=locked.pk)
    # What it still owes: from now if it had started, its whole length if it was queued and never ran.
    left = locked.expires_at - max(locked.starts_at, now)
    if tail is not None:
        _record("resumed", locked, _status(Status.SUSPENDED, Status.PENDING), "queued after what was bought meanwhile")
        return _set(locked, Status.PENDING, starts_at=tail.expires_at, expires_at=tail.expires_at + left)
    if locked.starts_at > now:  # queued when suspended, and nothing runs now: it runs from now
        locked.starts_at, locked.expires_at = now, now + left
    _set(locked, Status.ACTIVE)
    _record("resumed", locked, _status(Status.SUSPENDED, Status.ACTIVE))
    _grant(locked, locked.expires_at)
    return locked


# A support desk's goodwill has limits: a slip of the keyboard must not give a year away.
MAX_EXTEND_DAYS = 90


@transaction.atomic
def extend(subscription: Subscription, days: int, reason: str, now: datetime | None = None) -> Subscription:
    """Add ``days`` to a running or queued subscription (the support desk's "we're sorry, have a day
    on us"): what is queued behind it moves back by as much, so nothing overlaps. One in grace runs
    again from now. RADIUS's expiry moves in the same transaction."""
    now = now or timezone.now()
    if not 1 <= days <= MAX_EXTEND_DAYS:
        raise SubscriptionError(f"Extend by 1 to {MAX_EXTEND_DAYS} days.")
    if not reason.strip():
        raise SubscriptionError("Say why: the customer's history shows it.")
    lock_customers([subscription.customer_id])
    locked = (Subscription.objects.select_for_update(of=("self",)).select_related("customer", "package")
              .get(pk=subscription.pk))
    if locked.status not in (Status.ACTIVE, Status.PENDING, Status.GRACE):
        raise SubscriptionError(f"A {locked.get_status_display().lower()} subscription cannot be extended.")
    delta = timedelta(days=days)
    was_status, was_until = locked.status, locked.expires_at
    if locked.status == Status.GRACE:
        locked.starts_at, locked.expires_at, locked.grace_until = now, now + delta, None
        locked.status = Status.ACTIVE
    else:
        locked.expires_at += delta
    locked.save()
    changes = {"expires_at": [was_until, locked.expires_at]}
    if was_status != locked.status:
        changes.update(_status(was_status, locked.status))
    _record("extended", locked, changes, reason.strip()[:200])
    behind = list(locked.customer.subscriptions.select_for_update().filter(
        status=Status.PENDING, starts_at__gte=was_until).exclude(pk=locked.pk))
    for queued in behind:
        queued.starts_at, queued.expires_at = queued.starts_at + delta, queued.expires_at + delta
        queued.save(update_fields=["starts_at", "expires_at", "updated_at"])
    if locked.status == Status.ACTIVE:
        _grant(locked, locked.expires_at)
        if was_status == Status.GRACE:  # the open session still has the walled-garden policy
            _disconnect_after_commit([locked.customer.username], "extended out of grace")
    _announce(locked)
    return locked


def give_free_time(customer: Customer, package: Package, reason: str) -> Subscription:
    """A package at no charge (an outage made good, a trial): bought like any other, with the
    reason in the customer's history and no payment behind it."""
    if not reason.strip():
        raise SubscriptionError("Say why: the customer's history shows it.")
    if customer.status != Customer.Status.ACTIVE:
        raise SubscriptionError("The account is deactivated: activate it first.")
    with transaction.atomic():
        subscription = activate(customer, package, source="free")
        if subscription is None:
            raise SubscriptionError("A boost adds to a running package, and this customer has none.")
        _record("free_time", subscription, {"package": [None, str(package)]}, reason.strip()[:200])
    return subscription


def disconnect_unentitled_sessions(limit: int = BATCH) -> int:
    """Open sessions of usernames FreeRADIUS would now refuse (a Disconnect got lost or refused):
    ask their routers again. Reads open sessions only (partial index), at most ``limit``."""
    from radius.models import RadAcct, RadCheck

    entitled = RadCheck.objects.filter(attribute="Cleartext-Password").values("username")
    stray = list(RadAcct.objects.open().exclude(username__in=entitled)
                 .order_by("acct_start_time")[:limit])
    coa.disconnect_many(stray, requested_by="sweep")
    return len(stray)
