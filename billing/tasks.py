"""Billing jobs (beat): thin wrappers; each is also a management command of the same name."""
import logging

from celery import shared_task
from django.utils import timezone

from . import invoices, notifications, reconciliation, reminders, verification
from .models import Payment

log = logging.getLogger(__name__)


@shared_task(name="billing.tasks.verify_mpesa_transactions")
def verify_mpesa_transactions() -> dict:
    run = verification.verify_due()
    return {"asked": run.asked, "completed": len(run.completed), "failed": len(run.failed),
            "timed_out": len(run.timed_out), "errors": run.errors}


@shared_task(name="billing.tasks.process_payment")
def process_payment(payment_id: int) -> dict:
    """Settle one payment now if M-Pesa knows its outcome (staff "verify", the API)."""
    return {"payment": payment_id, "result": verification.verify(payment_id, force=True)}


@shared_task(name="billing.tasks.send_payment_reminders")
def send_payment_reminders() -> dict:
    result = reminders.send_due()
    return {"sent": result.sent, "skipped": result.skipped, "failed": result.failed}


@shared_task(name="billing.tasks.issue_invoices")
def issue_invoices() -> dict:
    return {"issued": len(invoices.issue_due())}


@shared_task(name="billing.tasks.reconcile_payments")
def reconcile_payments(day: str | None = None) -> dict:
    """Yesterday's reconciliation (Nairobi); logged, with a warning per mismatch."""
    from datetime import date, timedelta
    target = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    report = reconciliation.build(target)
    for line in report.lines():
        log.info("%s", line)
    for mismatch in report.mismatches:
        log.warning("reconciliation %s: [%s] %s", target, mismatch.kind, mismatch.text)
    return {"day": target.isoformat(), "total": str(report.total), "mismatches": len(report.mismatches)}


@shared_task(name="billing.tasks.send_receipt")
def send_receipt(payment_id: int) -> dict:
    payment = Payment.objects.select_related("customer", "package", "subscription").filter(pk=payment_id).first()
    if payment is None or payment.customer is None or not payment.customer.phone:
        return {"sent": False}
    customer = payment.customer
    text = f"Received KES {payment.amount:,.0f}"
    if payment.mpesa_receipt:
        text += f" (M-Pesa {payment.mpesa_receipt})"
    if payment.subscription:
        until = timezone.localtime(payment.subscription.expires_at).strftime("%d %b %H:%M")
        text += f" for {payment.package}, valid until {until}. Login {customer.username} / {customer.password}"
    else:
        text += " to your wallet"
    note = notifications.send_sms(customer.phone, text + ". Thank you.", customer)
    return {"sent": note.status == note.Status.SENT}
