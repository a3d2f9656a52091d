"""Invoices for PPPoE monthly customers: issued INVOICE_ISSUE_DAYS_BEFORE the running period ends,
due when the next one starts. Paying one (M-Pesa to the invoice number, an STK prompt staff send,
or cash) activates the next period; an unpaid one turns overdue. Issuing and cancelling write their
audit entries here; paying one is written where the payment is spent (billing.payments)."""
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit import trail
from hotspot.models import ServiceType, Subscription
from lib import live

from .models import Invoice

MONTHLY_MINUTES = 28 * 1440  # a package of four weeks or more is billed by invoice


class InvoiceError(ValueError):
    pass


def issue(subscription: Subscription, now: datetime | None = None) -> Invoice | None:
    """The invoice for the period after ``subscription``; None when it exists already."""
    now = now or timezone.now()
    package = subscription.package
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=f"TMP{subscription.pk}-{now.timestamp()}"[:20], customer=subscription.customer,
                package=package, amount=package.price, period_start=subscription.expires_at,
                period_end=subscription.expires_at + timedelta(minutes=package.validity_minutes),
                issued_at=now, due_at=subscription.expires_at)
            invoice.number = f"INV{invoice.pk:06d}"
            invoice.save(update_fields=["number"])
            trail.record("issued", invoice, note=f"{package} for {invoice.customer}, KES {invoice.amount}, "
                                                 f"{invoice.period_start:%Y-%m-%d} to {invoice.period_end:%Y-%m-%d}")
    except IntegrityError:  # this period is invoiced already (or by a run beside us)
        return None
    live.publish(live.ADMIN, "invoice.issued", {"id": invoice.pk})
    return invoice


def issue_due(now: datetime | None = None) -> list[Invoice]:
    now = now or timezone.now()
    invoiced = Invoice.objects.filter(customer=OuterRef("customer"), period_start=OuterRef("expires_at"))
    queued = Subscription.objects.filter(customer=OuterRef("customer"), status=Subscription.Status.PENDING)
    due = (Subscription.objects.select_related("customer", "package")
           .filter(status=Subscription.Status.ACTIVE, customer__service_type=ServiceType.PPPOE,
                   customer__status="active", package__validity_minutes__gte=MONTHLY_MINUTES,
                   expires_at__gt=now, expires_at__lte=now + timedelta(days=settings.INVOICE_ISSUE_DAYS_BEFORE))
           .exclude(Exists(invoiced)).exclude(Exists(queued)))
    return [invoice for invoice in (issue(sub, now) for sub in due) if invoice is not None]


def cancel(invoice: Invoice) -> Invoice:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not invoice.is_open:
            raise InvoiceError(f"Invoice {invoice.number} is {invoice.get_status_display().lower()}.")
        was = invoice.status
        invoice.status = Invoice.Status.CANCELLED
        invoice.save(update_fields=["status"])
        trail.record("cancelled", invoice, changes={"status": [was, invoice.status]})
    live.publish(live.ADMIN, "invoice.changed", {"id": invoice.pk})
    return invoice
