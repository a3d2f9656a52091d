"""The sweeps over stored M-Pesa bodies: processing again those not settled, and deleting old
posts to a wrong token.

A money body (STK callback, C2B confirmation) left `received` (the process or its database
connection died mid-request) or `error` (processing raised) was answered RETRY, and Safaricom
says it does not resend: the stored body is what settles it. Each is stored with the time it
becomes due (``retry_at``); a row without one (from before this sweep, see migration 0005) is
never due: staff settle it. A sweep claims due rows with SKIP
LOCKED and moves their ``retry_at`` forward (a lease, doubling with each attempt) in one short
transaction, then processes each outside it: two sweeps never take one row, and a sweep that dies
leaves its rows to come due again. Processing credits at most once however often it runs (the
payment row lock, the unique receipt), so a row processed twice still credits once. A body that
can never succeed ends `malformed` (or another final outcome) on its first attempt; one that
keeps failing ends `gave_up` after MPESA_CALLBACK_MAX_ATTEMPTS, and reconciliation lists both.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import trail

from . import callback_spool, callbacks
from .models import MpesaCallback

log = logging.getLogger(__name__)
Outcome = MpesaCallback.Outcome
MONEY_KINDS, UNSETTLED = MpesaCallback.MONEY_KINDS, MpesaCallback.UNSETTLED
BATCH = 100


@dataclass
class Swept:
    spooled: int = 0    # bodies brought in from the spool (billing/callback_spool.py) first
    settled: int = 0    # now in a final outcome (credited, duplicate, malformed, ...)
    failed: int = 0     # failed again; due again later
    gave_up: int = 0    # failed on its last attempt


def due(now: datetime):
    return MpesaCallback.objects.filter(kind__in=MONEY_KINDS, outcome__in=UNSETTLED, retry_at__lte=now)


def _lease(attempts: int) -> timedelta:
    return timedelta(seconds=settings.MPESA_CALLBACK_RETRY_SECONDS * 2 ** attempts)


def reprocess_due(now: datetime | None = None, limit: int = 10_000) -> Swept:
    """Process every due body again; safe to run twice and concurrently."""
    now = now or timezone.now()
    result = Swept()
    try:
        result.spooled = callback_spool.drain(callbacks.store, limit)
    except Exception:  # the spool waits for the next run; the stored bodies need not wait for it
        log.exception("M-Pesa spool not drained")
    while limit > 0:
        with transaction.atomic():
            batch = list(due(now).select_for_update(skip_locked=True).order_by("pk")[:min(BATCH, limit)])
            for row in batch:
                row.attempts += 1
                row.retry_at = now + _lease(row.attempts)
            MpesaCallback.objects.bulk_update(batch, ["attempts", "retry_at"])
        if not batch:
            break
        limit -= len(batch)
        for row in batch:
            _reprocess(row, result)
    return result


def _reprocess(row: MpesaCallback, result: Swept) -> None:
    record = callbacks.process(row, row.body.encode())
    if record.outcome in callbacks.FINAL:
        result.settled += 1
    elif row.attempts >= settings.MPESA_CALLBACK_MAX_ATTEMPTS:
        detail = f"gave up after {row.attempts} attempts: {record.detail}"[:255]
        MpesaCallback.objects.filter(pk=row.pk, outcome__in=UNSETTLED).update(outcome=Outcome.GAVE_UP, detail=detail)
        log.error("M-Pesa %s %s not processed after %s attempts", row.kind, row.pk, row.attempts)
        result.gave_up += 1
    else:
        result.failed += 1


def retry_now(callback_id: int) -> bool:
    """Make one money body not settled (received, error, given up, or forbidden once the allowlist
    is mended) due now with its attempts restarted (staff, once the cause is mended); False when
    it is settled or not a money body. A forbidden body is still checked against the allowlist."""
    with transaction.atomic():
        retried = MpesaCallback.objects.filter(
            pk=callback_id, kind__in=MONEY_KINDS, outcome__in=[*UNSETTLED, Outcome.GAVE_UP, Outcome.FORBIDDEN]).update(
            outcome=Outcome.ERROR, attempts=0, retry_at=timezone.now())
        if retried:
            trail.record("retry_requested", object_type="billing.mpesacallback", object_id=callback_id,
                         label=f"M-Pesa callback {callback_id}")
    return bool(retried)


def purge_bad_token(now: datetime | None = None) -> int:
    """Delete wrong-token posts older than MPESA_BAD_TOKEN_RETENTION_DAYS; nothing else."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MPESA_BAD_TOKEN_RETENTION_DAYS)
    deleted, _ = MpesaCallback.objects.filter(outcome=Outcome.BAD_TOKEN, received_at__lt=cutoff).delete()
    return deleted
