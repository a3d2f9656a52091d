"""Payments: starting an STK push, and settling a payment exactly once.

Every settlement locks the payment row (SELECT ... FOR UPDATE on the payment table alone) and
decides on the row as it is once the lock is held, so a callback, its duplicates, the verification
job and a staff member pressing "verify" can race freely: one of them settles, the others see a
final payment. Completing a payment credits the wallet ledger and, when it names a package or an
invoice, spends it there at once, activating the subscription in the same transaction (RADIUS
access included). Events and the receipt leave after commit.

Each change writes its audit entry in the transaction that makes it: a payment is created, credited
(exactly once, by whoever settles it), failed/cancelled/timed out, or reversed; an invoice is paid
or a prompt requested for it. The wallet's entries are on the customer (``wallet_credited`` /
``wallet_debited`` with the balance before and after), one per operation that moves the balance:
money that only passes through (paid in and spent on the package at once) moves none.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import trail
from hotspot import services as hotspot
from hotspot import subscriptions
from hotspot.models import Customer, Package
from hotspot.phone import normalise_phone
from lib import live

from . import receipts, wallets
from .daraja import Daraja, DarajaError, callback_base_url
from .models import Invoice, LedgerEntry, Payment

log = logging.getLogger(__name__)
Status = Payment.Status
# Daraja's word that the customer did not pay, by ResultCode; anything else non-zero is "failed".
CANCELLED_CODES = {1032}
TIMED_OUT_CODES = {1037, 1019}
# What a payment's entries show before -> after (the package and invoice by their labels).
AUDITED = ("status", "result_code", "result_desc", "mpesa_receipt", "package", "subscription")
CREATED = ("amount", "method", "phone", "package", "invoice")


class PaymentError(ValueError):
    """A payment that could not be started or changed; ``reason`` keys the portal's words."""

    def __init__(self, message: str, reason: str = "payment_failed"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Settled:
    outcome: str          # an MpesaCallback.Outcome value
    payment: Payment
    detail: str = ""


def callback_url() -> str:
    # Safaricom refuses CallBackURLs containing "mpesa": we give it the alias without the word.
    return f"{callback_base_url()}/api/payments/callback/{settings.MPESA_CALLBACK_TOKEN}"


def balance(customer: Customer) -> Decimal:
    return wallets.balance(customer)


def customer_for_phone(phone: str) -> Customer:
    """The customer with this number, created on first purchase (a phone is an account)."""
    customer = Customer.objects.filter(phone=phone).first()
    if customer is not None:
        return customer
    try:
        with transaction.atomic():
            return hotspot.create_customer(phone)
    except (hotspot.CustomerError, IntegrityError):  # created by a concurrent purchase
        return Customer.objects.get(phone=phone)


# --- starting -------------------------------------------------------------------------------------

def start_stk(*, phone: str, package: Package | None = None, invoice: Invoice | None = None,
              customer: Customer | None = None, amount: Decimal | int | None = None, mac: str = "",
              ip: str | None = None, now: datetime | None = None) -> Payment:
    """Record a pending payment, then ask Daraja to prompt the phone. Raises PaymentError.
    ``amount`` (and neither package nor invoice): a wallet top-up, which _spend leaves in the wallet."""
    phone = normalise_phone(phone)
    now = now or timezone.now()
    if amount is not None and (package is not None or invoice is not None):
        raise ValueError("amount is for a wallet top-up: a package or an invoice sets its own price")
    if invoice is not None:
        package, customer, amount = invoice.package, invoice.customer, invoice.amount
        if not invoice.is_open:
            raise PaymentError(f"Invoice {invoice.number} is {invoice.get_status_display().lower()}.", "invoice_closed")
    elif amount is not None:
        amount = Decimal(amount)
    elif package is None or not package.is_active:
        raise PaymentError("This package is not on sale.", "no_package")
    else:
        amount = package.price
    if amount != amount.to_integral_value() or amount < 1:
        raise PaymentError(f"M-Pesa takes whole shillings from 1; {amount} is not.", "payment_failed")
    customer = customer or customer_for_phone(phone)
    if customer.status != Customer.Status.ACTIVE:
        raise PaymentError("This account is not active; contact support.", "account_inactive")
    # Committed before the push: whatever happens next, the payment exists and will be settled.
    with transaction.atomic():
        payment = Payment.objects.create(
            customer=customer, phone=phone, package=package, invoice=invoice, amount=amount,
            method=Payment.Method.MPESA_STK, mac=mac.upper().replace(":", "-")[:17], ip=ip, created_at=now,
            window_ends_at=now + timedelta(seconds=settings.MPESA_PAYMENT_WINDOW_SECONDS))
        trail.record("created", payment, label=label(payment), changes=trail.changes({}, trail.snapshot(
            payment, CREATED)), note=f"M-Pesa prompt to {phone}")
        if invoice is not None:
            trail.record("payment_requested", invoice,
                         note=f"M-Pesa prompt to {phone} for KES {amount} (payment {payment.pk})")
    try:
        push = Daraja().stk_push(phone=phone, amount=int(amount), account_reference=customer.username or phone,
                                 description=(package.name if package else "Top-up"), callback_url=callback_url())
    except DarajaError as error:
        log.warning("STK push for payment %s refused: %s", payment.pk, error)
        fail(payment.pk, None, f"STK push not sent: {error}"[:255])
        raise PaymentError(str(error), "mpesa_unavailable") from error
    Payment.objects.filter(pk=payment.pk).update(checkout_request_id=push.checkout_request_id,
                                                 merchant_request_id=push.merchant_request_id)
    payment.checkout_request_id, payment.merchant_request_id = push.checkout_request_id, push.merchant_request_id
    live.publish(live.ADMIN, "payment.started", {"id": payment.pk})
    return payment


# --- settling -------------------------------------------------------------------------------------

def label(payment: Payment) -> str:
    """A payment as its entries name it (its status changes; this does not)."""
    return f"Payment {payment.pk} · KES {payment.amount} {payment.get_method_display()}"


def _locked(payment_id: int | None, checkout_request_id: str | None) -> Payment | None:
    """The payment row, locked (only it: customer and package come along unlocked)."""
    key = {"pk": payment_id} if payment_id is not None else {"checkout_request_id": checkout_request_id}
    return (Payment.objects.select_for_update(of=("self",)).select_related("customer", "package")
            .filter(**key).first())


def complete(payment_id: int | None = None, *, checkout_request_id: str | None = None, receipt: str | None = None,
             amount: Decimal | None = None, via: str = "callback", by=None) -> Settled | None:
    """Mark a payment completed and spend it, once. ``amount``: what M-Pesa says was paid.
    None when no payment has this id / CheckoutRequestID."""
    with transaction.atomic(savepoint=False):  # inside a caller's transaction: its part, no savepoint
        payment = _locked(payment_id, checkout_request_id)
        if payment is None:
            return None
        if payment.status == Status.COMPLETED:
            if receipt and not payment.mpesa_receipt and not _receipt_taken(receipt, payment):
                # Settled by the query (which carries no receipt); the late callback brings it.
                Payment.objects.filter(pk=payment.pk).update(mpesa_receipt=receipt)
                trail.record("changed", payment, label=label(payment), changes={"mpesa_receipt": [None, receipt]},
                             note=f"receipt brought by a late {via}")
            return Settled("duplicate", payment, f"already completed ({via})")
        if payment.status in (Status.FAILED, Status.CANCELLED):
            # Daraja told us otherwise before: never credit on a contradiction; reconciliation flags it.
            return Settled("duplicate", payment, f"already {payment.status}; success via {via} not credited")
        # Compared exactly: 299.995 is not 300.00 (rounding it would credit money that never came).
        if amount is not None and Decimal(amount) != payment.amount:
            return Settled("amount_mismatch", payment, f"paid {amount}, asked {payment.amount}")
        if receipt and _receipt_taken(receipt, payment):
            return Settled("duplicate", payment, f"receipt {receipt} already used")
        # A timed-out payment is our guess, not Daraja's word: evidence of payment overturns it.
        before = trail.snapshot(payment, AUDITED)
        payment.status, payment.completed_at = Status.COMPLETED, timezone.now()
        payment.result_code, payment.mpesa_receipt = 0, receipt or payment.mpesa_receipt
        payment.result_desc = f"Paid ({via})"
        payment.recorded_by = payment.recorded_by or by
        _spend(payment)
        payment.save(update_fields=["status", "completed_at", "result_code", "result_desc", "mpesa_receipt",
                                    "recorded_by", "package", "invoice", "subscription"])
        trail.record("credited", payment, label=label(payment), note=f"via {via}",
                     changes=trail.changes(before, trail.snapshot(payment, AUDITED)))
        _announce(payment, "payment.completed")
    return Settled("credited", payment)


def fail(payment_id: int | None, result_code: int | None, desc: str, *, status: str | None = None,
         checkout_request_id: str | None = None) -> Settled | None:
    """Settle a pending (or our own timed-out guess) payment as not paid."""
    with transaction.atomic(savepoint=False):
        payment = _locked(payment_id, checkout_request_id)
        if payment is None:
            return None
        if payment.status not in (Status.PENDING, Status.TIMED_OUT) or (
                payment.status == Status.TIMED_OUT and status == Status.TIMED_OUT):
            return Settled("duplicate", payment, f"already {payment.status}")
        before = trail.snapshot(payment, AUDITED)
        payment.status = status or _failure_status(result_code)
        payment.result_code, payment.result_desc = result_code, desc[:255]
        payment.save(update_fields=["status", "result_code", "result_desc"])
        # The verb is the new status: failed, cancelled or timed_out.
        trail.record(payment.status, payment, label=label(payment),
                     changes=trail.changes(before, trail.snapshot(payment, AUDITED)))
        _announce(payment, "payment.failed")
    return Settled("failed", payment)


def _failure_status(code: int | None) -> str:
    if code in CANCELLED_CODES:
        return Status.CANCELLED
    if code in TIMED_OUT_CODES:
        return Status.TIMED_OUT
    return Status.FAILED


def _receipt_taken(receipt: str, payment: Payment) -> bool:
    return Payment.objects.filter(mpesa_receipt=receipt).exclude(pk=payment.pk).exists()


def _spend(payment: Payment) -> None:
    """Credit the wallet with what came in; pay the invoice or package it was for out of it."""
    customer = payment.customer
    if customer is None:
        return  # money with no account yet (unmatched C2B): reconciliation lists it for staff
    what = f"{payment.get_method_display()} {payment.mpesa_receipt or ''}".strip()
    entries = [LedgerEntry(customer=customer, amount=payment.amount, kind=LedgerEntry.Kind.PAYMENT,
                           payment=payment, description=what, created_by=payment.recorded_by)]
    source = "invoice" if payment.invoice_id else payment.method
    if payment.invoice_id:
        invoice = payment.invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
        if invoice.is_open:
            was = invoice.status
            invoice.status, invoice.paid_at = Invoice.Status.PAID, timezone.now()
            invoice.save(update_fields=["status", "paid_at"])
            trail.record("paid", invoice, changes={"status": [was, invoice.status]}, note=f"by {label(payment)}")
            payment.package = invoice.package
        else:  # settled meanwhile by another payment: this money stays in the wallet
            payment.package = None
    if payment.package_id:
        payment.subscription = subscriptions.activate(customer, payment.package, source=source)
    if payment.package_id and payment.subscription_id is not None:  # None: a boost with nothing running: money stays
        kind = LedgerEntry.Kind.INVOICE if payment.invoice_id else LedgerEntry.Kind.PURCHASE
        entries.append(LedgerEntry(customer=customer, amount=-payment.amount, kind=kind, payment=payment,
                                   description=str(payment.invoice or payment.package),
                                   created_by=payment.recorded_by))
    post_to_wallet(customer, entries, what)  # the credit and what it paid for: one statement
    if payment.mac or payment.ip:
        hotspot.seen(customer, payment.mac, payment.ip)


def post_to_wallet(customer: Customer, entries: list[LedgerEntry], note: str) -> None:
    """Write ledger entries; when they move the balance, one audit entry on the customer says by how much.
    The stored balance moves with the insert (billing.wallets); read after it, under the wallet row's
    lock the insert took, it is exact even while another payment for the customer lands."""
    moved = sum((entry.amount for entry in entries), Decimal("0.00"))
    LedgerEntry.objects.bulk_create(entries)
    if moved:
        after = balance(customer)
        trail.record("wallet_credited" if moved > 0 else "wallet_debited", customer,
                     changes={"wallet": [after - moved, after]}, note=note)


def _announce(payment: Payment, event: str) -> None:
    data = {"id": payment.pk, "status": payment.status, "amount": str(payment.amount),
            "checkout_request_id": payment.checkout_request_id}
    groups = [live.ADMIN] + ([live.customer_group(payment.customer_id)] if payment.customer_id else [])
    live.publish_many([(group, event, data) for group in groups])
    if event == "payment.completed" and payment.customer_id:
        transaction.on_commit(receipts.wake, robust=True)  # the receipt itself is owed in the row


# --- staff --------------------------------------------------------------------------------------

def record_cash(*, customer: Customer, amount: Decimal, by, package: Package | None = None,
                invoice: Invoice | None = None, note: str = "") -> Payment:
    """A payment taken at the counter: completed at once and spent like any other. More than the
    package's price: the package is bought and the rest stays in the wallet."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0:
        raise PaymentError("The amount must be more than zero.")
    if invoice is not None and (amount != invoice.amount or not invoice.is_open):
        raise PaymentError(f"Invoice {invoice.number} is {invoice.get_status_display().lower()}, "
                           f"for KES {invoice.amount}.")
    if package is not None and amount < package.price:
        raise PaymentError(f"{package.name} costs KES {package.price}.")
    with transaction.atomic():
        payment = Payment.objects.create(
            customer=customer, phone=customer.phone or "", amount=amount, method=Payment.Method.CASH,
            recorded_by=by, note=note[:255], invoice=invoice,
            package=package if invoice is None and package is not None and amount == package.price else None)
        complete(payment.pk, via="cash", by=by)
        if package is not None and invoice is None and amount > package.price:
            buy_from_wallet(customer, package, by=by)
    payment.refresh_from_db()
    return payment


def buy_from_wallet(customer: Customer, package: Package, by=None) -> Payment:
    """Spend wallet balance on a package (locks the customer so two purchases can't overspend)."""
    with transaction.atomic():
        subscriptions.lock_customers([customer.pk])  # two purchases can't overspend
        if balance(customer) < package.price:
            raise PaymentError(f"The wallet holds KES {balance(customer)}; {package.name} costs KES {package.price}.",
                               "insufficient_balance")
        payment = Payment.objects.create(customer=customer, phone=customer.phone or "", amount=package.price,
                                         package=package, method=Payment.Method.WALLET, recorded_by=by,
                                         status=Status.COMPLETED, completed_at=timezone.now(),
                                         result_desc="From wallet")
        payment.subscription = subscriptions.activate(customer, package, source="wallet")
        if payment.subscription is None:
            raise PaymentError("A boost adds to a running package: buy a package first.", "needs_subscription")
        payment.save(update_fields=["subscription"])
        trail.record("credited", payment, label=label(payment), note="from the wallet",
                     changes=trail.changes({}, trail.snapshot(payment, AUDITED)))
        post_to_wallet(customer, [LedgerEntry(customer=customer, amount=-package.price, kind=LedgerEntry.Kind.PURCHASE,
                                              payment=payment, description=package.name, created_by=by)],
                       f"{package.name} from the wallet")
        _announce(payment, "payment.completed")
    return payment


def reverse(payment: Payment, *, by, reason: str) -> Payment:
    """Record a refund: every ledger entry of the payment gets its opposite, so the wallet is as if
    it never happened. Access already given is not taken back here (staff suspend the
    subscription when they mean to)."""
    reason = reason.strip()
    if not reason:
        raise PaymentError("Say why the payment is reversed.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Status.COMPLETED or payment.reversed_at is not None:
            raise PaymentError("Only a completed payment that has not been reversed can be reversed.")
        if payment.customer_id is None:
            raise PaymentError("Assign the payment to a customer before reversing it.")
        before = trail.snapshot(payment, ("reversed_at", "note"))
        payment.reversed_at = timezone.now()
        payment.note = f"Reversed: {reason}"[:255]
        payment.save(update_fields=["reversed_at", "note"])
        trail.record("reversed", payment, label=label(payment), note=reason,
                     changes=trail.changes(before, trail.snapshot(payment, ("reversed_at", "note"))))
        undone = [LedgerEntry(customer_id=entry.customer_id, amount=-entry.amount, kind=LedgerEntry.Kind.REVERSAL,
                              payment=payment, description=f"{entry.get_kind_display()} reversed: {reason}"[:255],
                              created_by=by)
                  for entry in payment.ledger.exclude(kind=LedgerEntry.Kind.REVERSAL)]
        post_to_wallet(payment.customer, undone, f"{label(payment)} reversed: {reason}")
        _announce(payment, "payment.reversed")
    return payment
