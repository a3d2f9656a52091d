"""Demo payments: one per demo subscription, plus the failures a real till sees."""
import random
import string
from datetime import timedelta

from hotspot.models import Subscription

from .models import LedgerEntry, Payment

FAILURE_STATUSES = [Payment.Status.CANCELLED, Payment.Status.FAILED, Payment.Status.TIMED_OUT]


def _receipt(rng: random.Random) -> str:
    return "T" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))


def seed_payments(subscriptions: list[Subscription], seed: int = 11) -> int:
    rng = random.Random(seed)
    receipts: set[str] = set()
    payments = []
    for sub in subscriptions:
        method = Payment.Method.MPESA_STK if rng.random() < 0.85 else rng.choice(
            [Payment.Method.MPESA_C2B, Payment.Method.CASH, Payment.Method.VOUCHER])
        receipt = None
        if method in (Payment.Method.MPESA_STK, Payment.Method.MPESA_C2B):
            receipt = _receipt(rng)
            while receipt in receipts:
                receipt = _receipt(rng)
            receipts.add(receipt)
        paid_at = sub.starts_at - timedelta(seconds=rng.randint(5, 40))
        payments.append(Payment(
            customer=sub.customer, phone=sub.customer.phone, package=sub.package, subscription=sub,
            amount=sub.package.price, method=method, status=Payment.Status.COMPLETED,
            mpesa_receipt=receipt, created_at=paid_at - timedelta(seconds=20), completed_at=paid_at,
            receipt_sent_at=paid_at,
        ))
        if rng.random() < 0.08:  # a cancelled prompt or a timeout before the successful retry
            payments.append(Payment(
                customer=sub.customer, phone=sub.customer.phone, package=sub.package,
                amount=sub.package.price, method=Payment.Method.MPESA_STK,
                status=rng.choice(FAILURE_STATUSES), created_at=paid_at - timedelta(minutes=2),
            ))
    Payment.objects.bulk_create(payments, batch_size=1000)
    # The wallet ledger as live payments write it: the money in, then the package bought with it.
    ledger = []
    for payment in payments:
        if payment.status == Payment.Status.COMPLETED:
            ledger += [
                LedgerEntry(customer=payment.customer, amount=payment.amount, kind=LedgerEntry.Kind.PAYMENT,
                            payment=payment, created_at=payment.completed_at,
                            description=f"{payment.get_method_display()} {payment.mpesa_receipt or ''}".strip()),
                LedgerEntry(customer=payment.customer, amount=-payment.amount, kind=LedgerEntry.Kind.PURCHASE,
                            payment=payment, created_at=payment.completed_at, description=payment.package.name),
            ]
    LedgerEntry.objects.bulk_create(ledger, batch_size=1000)
    return len(payments)
