"""The fallback for every lost callback: ask Daraja (STK query) about payments still unsettled.

A payment is first asked about MPESA_QUERY_AFTER_SECONDS after the push, then at most once per
MPESA_QUERY_INTERVAL_SECONDS; the claim is one conditional UPDATE on the payment row, so two
workers (or a worker and a staff member) never ask about the same payment at once. Past the
customer's window a payment nobody can confirm times out; for a day after that it is still asked
about now and then, because a timeout is our guess and money that did arrive must be credited.
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import payments
from .daraja import Daraja, DarajaError
from .models import Payment

log = logging.getLogger(__name__)
Status = Payment.Status
BATCH = 200
LATE_INTERVAL = timedelta(minutes=5)
LATE_FOR = timedelta(hours=24)


@dataclass
class Run:
    asked: int = 0
    completed: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    timed_out: list = field(default_factory=list)
    errors: int = 0


def _interval() -> timedelta:
    return timedelta(seconds=settings.MPESA_QUERY_INTERVAL_SECONDS)


def _claim(payment_id: int, now: datetime, force: bool = False) -> bool:
    """Take the right to ask about this payment now (one UPDATE on the payment's own columns)."""
    rows = Payment.objects.filter(pk=payment_id, method=Payment.Method.MPESA_STK)
    pending = Q(status=Status.PENDING) & (Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - _interval()))
    late = Q(status=Status.TIMED_OUT, result_code__isnull=True, created_at__gte=now - LATE_FOR) & (
        Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - LATE_INTERVAL))
    if force:  # staff asking: still never more often than Daraja's interval
        late = Q(status=Status.TIMED_OUT, result_code__isnull=True) & (
            Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - _interval()))
    return rows.filter(pending | late).update(last_queried_at=now) == 1


def verify(payment_id: int, now: datetime | None = None, force: bool = False) -> str:
    """Ask about one payment and settle it if Daraja knows. Returns what happened, in words."""
    now = now or timezone.now()
    if not _claim(payment_id, now, force):
        return "not due: settled already or asked less than 15 seconds ago"
    payment = Payment.objects.get(pk=payment_id)
    window_over = payment.window_ends_at is None or now >= payment.window_ends_at
    if not payment.checkout_request_id:
        if window_over and payment.status == Status.PENDING:
            payments.fail(payment.pk, None, "M-Pesa never acknowledged the request", status=Status.TIMED_OUT)
            return "timed out (no CheckoutRequestID)"
        return "waiting for the push to be acknowledged"
    try:
        result = Daraja().stk_query(payment.checkout_request_id)
    except DarajaError as error:
        log.warning("STK query for payment %s failed: %s", payment.pk, error)
        if window_over and payment.status == Status.PENDING:
            payments.fail(payment.pk, None, f"Unconfirmed: {error}"[:255], status=Status.TIMED_OUT)
            return f"timed out; M-Pesa could not be asked ({error})"
        return f"M-Pesa could not be asked: {error}"
    if result.pending:
        if window_over and payment.status == Status.PENDING:
            payments.fail(payment.pk, None, "The customer did not answer the prompt in time", status=Status.TIMED_OUT)
            return "timed out"
        return "still waiting for the customer"
    if result.result_code == 0:
        return f"completed ({payments.complete(payment.pk, via='query').outcome})"
    settled = payments.fail(payment.pk, result.result_code, result.result_desc)
    return f"{settled.payment.get_status_display().lower()}: {result.result_desc}"


def verify_due(now: datetime | None = None) -> Run:
    """The beat job: every unsettled payment whose turn has come, oldest first."""
    now = now or timezone.now()
    first_ask = now - timedelta(seconds=settings.MPESA_QUERY_AFTER_SECONDS)
    due = (Payment.objects.filter(method=Payment.Method.MPESA_STK)
           .filter(Q(status=Status.PENDING, created_at__lte=first_ask)
                   & (Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - _interval()))
                   | Q(status=Status.TIMED_OUT, result_code__isnull=True, created_at__gte=now - LATE_FOR)
                   & (Q(last_queried_at__isnull=True) | Q(last_queried_at__lte=now - LATE_INTERVAL)))
           .order_by("created_at").values_list("pk", flat=True)[:BATCH])
    run = Run()
    for payment_id in due:
        said = verify(payment_id, now)
        if said.startswith("not due"):
            continue
        run.asked += 1
        if said.startswith("completed"):
            run.completed.append(payment_id)
        elif said.startswith("timed out"):
            run.timed_out.append(payment_id)
        elif said.startswith(("failed", "cancelled")):
            run.failed.append(payment_id)
        elif "could not be asked" in said:
            run.errors += 1
    return run
