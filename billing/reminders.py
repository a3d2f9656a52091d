"""Reminders before a subscription ends and before/after an invoice is due, each sent once.

The reminder row is inserted first under a unique constraint (per subscription or invoice, kind
and lead time); only the run whose insert succeeds sends, so concurrent runs never send twice.
When several lead times are due at once (a job that did not run for a while, a short package)
only the nearest is sent and the others are recorded as skipped.
"""
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit import trail
from hotspot.models import Subscription

from . import messages, notifications
from .models import Invoice, PaymentReminder
from .notifications import Sent

log = logging.getLogger(__name__)
Kind = PaymentReminder.Kind


def _record(kind: str, lead: int, message: str, *, customer, subscription=None, invoice=None) -> PaymentReminder | None:
    try:
        with transaction.atomic():
            return PaymentReminder.objects.create(kind=kind, lead_minutes=lead, message=message, customer=customer,
                                                  subscription=subscription, invoice=invoice)
    except IntegrityError:
        return None  # sent (or skipped) before, or by a run beside us


def _send(reminder: PaymentReminder, result: Sent) -> None:
    note = notifications.send_sms(reminder.customer.phone or "", reminder.message, reminder.customer)
    if note.status == note.Status.SENT:
        reminder.sent_at = timezone.now()
        result.sent += 1
    else:
        reminder.error = note.error
        result.failed += 1
    reminder.save(update_fields=["sent_at", "error"])


def _remind(leads: list[int], due_in, kind: str, message, result: Sent, **target) -> None:
    """``due_in``: minutes until due; sends the nearest lead that applies, records the rest skipped."""
    applicable = sorted(lead for lead in leads if due_in <= lead)
    for position, lead in enumerate(applicable):
        reminder = _record(kind, lead, message(), **target)
        if reminder is None:
            continue
        if position == 0:
            _send(reminder, result)
        else:
            reminder.error = "skipped: a nearer reminder was due"
            reminder.save(update_fields=["error"])
            result.skipped += 1


def send_due(now: datetime | None = None) -> Sent:
    now = now or timezone.now()
    result = Sent()
    leads = settings.REMINDER_EXPIRY_LEAD_MINUTES
    if leads:
        queued = Subscription.objects.filter(customer=OuterRef("customer"), status=Subscription.Status.PENDING)
        subs = (Subscription.objects.select_related("customer", "package")
                .active(now).filter(expires_at__lte=now + timedelta(minutes=max(leads)),
                        customer__phone__isnull=False, customer__status="active")
                .exclude(Exists(queued)))
        for sub in subs:
            due_in = (sub.expires_at - now).total_seconds() / 60
            # A reminder longer than the package itself would arrive at purchase: not for it.
            fitting = [lead for lead in leads if sub.starts_at < sub.expires_at - timedelta(minutes=lead)]
            _remind(fitting, due_in, Kind.EXPIRY, lambda sub=sub: messages.expiry(sub), result,
                    customer=sub.customer, subscription=sub)
    invoice_leads = [days * 1440 for days in settings.REMINDER_INVOICE_LEAD_DAYS]
    mark_overdue(now)
    open_invoices = Invoice.objects.select_related("customer", "package").filter(
        status__in=[Invoice.Status.ISSUED, Invoice.Status.OVERDUE], customer__phone__isnull=False)
    for invoice in open_invoices.filter(due_at__gt=now, due_at__lte=now + timedelta(minutes=max(invoice_leads or [0]))):
        due_in = (invoice.due_at - now).total_seconds() / 60
        _remind(invoice_leads, due_in, Kind.INVOICE_DUE, lambda invoice=invoice: messages.invoice_due(invoice), result,
            customer=invoice.customer, invoice=invoice)
    for invoice in open_invoices.filter(status=Invoice.Status.OVERDUE):
        reminder = _record(Kind.INVOICE_OVERDUE, 0, messages.invoice_overdue(invoice),
                           customer=invoice.customer, invoice=invoice)
        if reminder is not None:
            _send(reminder, result)
    return result


def mark_overdue(now: datetime) -> int:
    """Issued invoices past their due date turn overdue, each with its audit entry (the job's). Rows
    another run holds are skipped: that run marks and records them."""
    with transaction.atomic():
        due = list(Invoice.objects.select_for_update(skip_locked=True).select_related("customer")
                   .filter(status=Invoice.Status.ISSUED, due_at__lte=now))
        Invoice.objects.filter(pk__in=[i.pk for i in due]).update(status=Invoice.Status.OVERDUE)
        trail.record_many([{"action": "overdue", "obj": i,
                            "changes": {"status": [Invoice.Status.ISSUED, Invoice.Status.OVERDUE]}} for i in due])
    return len(due)
