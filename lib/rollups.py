"""The one mechanism behind every report rollup (summary rows kept current by a job): a watermark per
rollup, a lock so two runs never count the same rows twice, and business-day arithmetic.

A rollup is an object with a ``name``, an ``overlap`` and three methods (see ``Rollup``). A run
(``refresh``) takes the rollup's lock, reads its watermark, asks the rollup to bring in every source
row changed since the watermark less the overlap, and moves the watermark to the time the run
started (the database's clock). Rollups recompute whole keys (a day, a day × customer ...) from the
source rows rather than adding to them, or, where the source keeps no history (radacct's counters),
keep their own marks of what they counted; either way a row read twice changes nothing, so the
overlap can be generous: it is what catches rows committed late (a transaction open across the
run's start, a router's report arriving late) at no cost in correctness.

The lock is a PostgreSQL advisory lock held for the run's transaction: a second run of the same
rollup waits for the first and then finds nothing new. SQLite (the quick start) allows one writer
at a time anyway, so there the transaction itself is the lock.

The watermark rows live in a model the caller passes (hotspot.RollupWatermark): lib has no models.
"""
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone


@dataclass(frozen=True)
class Window:
    """What one run reads: source rows changed at or after ``since`` (None: a rollup that never ran),
    up to ``until``, the run's start, which becomes the watermark."""

    since: datetime | None
    until: datetime


class Rollup(Protocol):
    name: str
    overlap: timedelta

    def refresh(self, window: Window) -> int:
        """Bring in the source rows changed in ``window``; return how many summary keys were rewritten."""

    def rebuild(self, first: date, last: date, until: datetime) -> int:
        """Recompute every summary row of the business days ``first``..``last`` from the sources. A rollup
        may recompute more days (the usage one: those of the sessions crossing the range's edges) or
        keep some as they are (the payments one: days whose sessions radacct no longer holds)."""

    def earliest(self) -> date | None:
        """The first business day the sources hold anything for (None: they hold nothing)."""


@dataclass(frozen=True)
class Outcome:
    name: str
    keys: int
    since: datetime | None
    until: datetime


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(f"rollup:{name}".encode(), digest_size=8).digest(), "big", signed=True)


def _lock(name: str) -> None:
    """Hold the rollup's lock until the current transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(name)])


def database_now() -> datetime:
    """The database's clock: the watermark compares with times the database (and FreeRADIUS) wrote."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def refresh(rollup: Rollup, watermarks, *, zone: tzinfo, since: date | None = None) -> Outcome:
    """One run of ``rollup``: incremental from its watermark, or, the first time or when ``since``
    (a business day) is given, a rebuild from that day (the first day of its data) to today."""
    with transaction.atomic():
        _lock(rollup.name)
        until = database_now()
        mark = watermarks.objects.filter(name=rollup.name).first()
        if since is None and mark is not None:
            window = Window(mark.reached_at - rollup.overlap, until)
            keys = rollup.refresh(window)
        else:
            first = _kept_from(rollup, since) if since else rollup.earliest()
            today = until.astimezone(zone).date()
            keys = rollup.rebuild(first, today, until) if first is not None and first <= today else 0
            window = Window(day_start(first, zone) if first else None, until)
        reached = max(until, mark.reached_at) if mark is not None and since is None else until
        watermarks.objects.update_or_create(name=rollup.name, defaults={
            "reached_at": reached, "last_run_at": until, "last_run_rows": min(keys, 2**31 - 1)})
    return Outcome(rollup.name, keys, window.since, until)


def rebuild(rollup: Rollup, watermarks, first: date, last: date) -> Outcome:
    """Recompute the business days ``first``..``last`` of ``rollup`` from its sources, under its lock
    (the watermark stays: rows changed since it are still the next run's). Days before the first
    its sources hold are left as they are."""
    with transaction.atomic():
        _lock(rollup.name)
        until = database_now()
        first = _kept_from(rollup, first)
        keys = rollup.rebuild(first, last, until) if first is not None and first <= last else 0
        if not watermarks.objects.filter(name=rollup.name).exists():
            # A rollup never run incrementally starts from here rather than rebuilding all again.
            watermarks.objects.create(name=rollup.name, reached_at=until, last_run_at=until,
                                      last_run_rows=min(keys, 2**31 - 1))
    return Outcome(rollup.name, keys, None, until)


def _kept_from(rollup: Rollup, first: date) -> date | None:
    """``first``, or the first day the sources still hold if later: days before it (dropped by the
    sources' retention) keep their summary rows, which are then the only record of them."""
    earliest = rollup.earliest()
    return None if earliest is None else max(first, earliest)


# --- business days ---------------------------------------------------------------------------


def day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight opening ``day`` in ``zone``."""
    return datetime.combine(day, time.min, tzinfo=zone)


def day_of(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def month_start(day: date) -> date:
    return day.replace(day=1)


def spread(amounts: Iterable[int], start: datetime, end: datetime, zone: tzinfo) -> dict[date, list[int]]:
    """``amounts`` (counters' growth between two reports at ``start`` and ``end``) shared between the
    business days of that interval in proportion to the time of each, in whole units that add up
    exactly: each day gets floor(amount × time up to its end / whole time) less the same for the
    time up to its start. An empty or backwards interval gives everything to the day of ``end``."""
    amounts = list(amounts)
    first, last = day_of(start, zone), day_of(end, zone)
    if end <= start or first == last:
        return {day_of(end, zone): amounts}
    whole = _micros(end - start)
    shares: dict[date, list[int]] = {}
    done = [0] * len(amounts)
    for day in days(first, last):
        upto = min(end, day_start(day + timedelta(days=1), zone))
        elapsed = _micros(upto - start)
        cumulative = [amount * elapsed // whole for amount in amounts]
        shares[day] = [c - d for c, d in zip(cumulative, done, strict=True)]
        done = cumulative
    return shares


def _micros(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
