"""Receipts: an SMS for every completed payment (and an e-mail to a customer who gave an address),
sent once, from an outbox.

A completed payment with ``receipt_sent_at`` empty is a receipt still owed; the row commits with
the payment, so a receipt survives a broker outage or a crash between commit and sending. After
commit the payment wakes the sender (one Redis SET NX, not a task per payment: at a burst of
callbacks one sweep sends every receipt owed), and beat sweeps every minute in case a wake was
lost. A sweep claims its rows (SKIP LOCKED) and marks them before sending, so two sweeps never
send one receipt twice: a crash mid-send loses that SMS rather than repeating it, and the
notification log shows which went out.
"""
import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from . import messages, notifications
from .models import Payment
from .notifications import Sent

log = logging.getLogger(__name__)
WAKE_KEY = "billing:receipts:woken"
BATCH = 200
# How long a woken sweep waits for the payments that follow the first (the receipt's delay).
GATHER_SECONDS = 0.5


def wake() -> None:
    """After a payment commits: make sure a sweep runs within ``GATHER_SECONDS`` (at most one is
    queued at a time, so a burst of payments costs a sweep or two a second, not a task each)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker: sent here and now. Not through the task: Celery's eager run flips a
        # process-wide flag that two threads (two requests) running it at once can leave set.
        send_due()
        return
    try:
        if not cache.add(WAKE_KEY, 1, timeout=60):
            return  # a sweep is queued and has not started: it will see this payment
        # By name: billing/tasks.py imports this module (and eager runs never get here).
        current_app.send_task("billing.tasks.send_receipts", countdown=GATHER_SECONDS)
    except Exception:  # the broker or cache is down: the payment stands, beat's sweep sends it
        log.warning("receipt sender not woken; the next scheduled sweep sends the receipt", exc_info=True)


def owed():
    return Payment.objects.completed().filter(receipt_sent_at__isnull=True)


def send_due(limit: int = 10_000) -> Sent:
    """Send every receipt owed, in batches; safe to run twice and concurrently."""
    # Cleared before reading: a payment committed from here on wakes another sweep.
    cache.delete(WAKE_KEY)
    result = Sent()
    while limit > 0:
        with transaction.atomic():
            batch = list(owed().select_for_update(skip_locked=True, of=("self",))
                         .select_related("customer", "package", "subscription").order_by("pk")[:min(BATCH, limit)])
            Payment.objects.filter(pk__in=[p.pk for p in batch]).update(receipt_sent_at=timezone.now())
        if not batch:
            break
        limit -= len(batch)
        for payment in batch:
            customer = payment.customer
            if customer is None or not (customer.phone or customer.email):
                result.skipped += 1  # unmatched money or no number: nobody to tell
                continue
            words = text(payment)
            notes = []
            if customer.phone:
                notes.append(notifications.send_sms(customer.phone, words, customer))
            if customer.email:  # as well as the SMS: a receipt they can file
                notes.append(notifications.send_email(customer.email, subject(payment), words, customer))
            if any(note.status == note.Status.SENT for note in notes):
                result.sent += 1
            else:
                result.failed += 1
    return result


def text(payment: Payment) -> str:
    return messages.receipt(payment)


def subject(payment: Payment) -> str:
    return messages.receipt_subject(payment)
