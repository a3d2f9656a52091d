"""Billing jobs (beat): thin wrappers; each is also a management command of the same name."""
import logging

from celery import shared_task
from django.utils import timezone

from . import (
    allowance_alerts,
    callback_sweeps,
    invoices,
    receipts,
    reconciliation,
    reminders,
    report_rollups,
    verification,
    wallets,
)

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


@shared_task(name="billing.tasks.send_allowance_alerts")
def send_allowance_alerts() -> dict:
    result = allowance_alerts.send_due()
    return {"sent": result.sent, "skipped": result.skipped, "failed": result.failed}


@shared_task(name="billing.tasks.issue_invoices")
def issue_invoices() -> dict:
    return {"issued": len(invoices.issue_due())}


@shared_task(name="billing.tasks.reconcile_payments")
def reconcile_payments(day: str | None = None) -> dict:
    """Yesterday's reconciliation (in the business's time zone); logged, with a warning per mismatch."""
    from datetime import date, timedelta
    target = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    report = reconciliation.build(target)
    for line in report.lines():
        log.info("%s", line)
    for mismatch in report.mismatches:
        log.warning("reconciliation %s: [%s] %s", target, mismatch.kind, mismatch.text)
    return {"day": target.isoformat(), "total": str(report.total), "mismatches": len(report.mismatches)}


@shared_task(name="billing.tasks.check_wallets")
def check_wallets() -> dict:
    """Every wallet against its ledger, the result stored for the payment reports page (which
    compares again only what moved since); a warning per difference (check_wallets --fix)."""
    found = wallets.check().found
    for wrong in found:
        log.warning("wallet check: %s", wrong.text)
    return {"differ": len(found)}


@shared_task(name="billing.tasks.send_receipts")
def send_receipts() -> dict:
    result = receipts.send_due()
    return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}


@shared_task(name="billing.tasks.reprocess_callbacks")
def reprocess_callbacks() -> dict:
    """Stored M-Pesa bodies not settled (received / error), processed again."""
    result = callback_sweeps.reprocess_due()
    return {"spooled": result.spooled, "settled": result.settled, "failed": result.failed, "gave_up": result.gave_up}


@shared_task(name="billing.tasks.purge_bad_token_callbacks")
def purge_bad_token_callbacks() -> dict:
    return {"deleted": callback_sweeps.purge_bad_token()}


@shared_task(name="billing.tasks.refresh_reports")
def refresh_reports() -> dict:
    """The report rollups brought up to date (also `manage.py refresh_reports`)."""
    return {outcome.name: outcome.keys for outcome in report_rollups.refresh()}
