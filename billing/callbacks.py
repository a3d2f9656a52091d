"""What M-Pesa posts to us: STK callbacks and C2B validation/confirmation bodies.

Each body is stored exactly as received, committed, before anything reads it; processing then
records its outcome on that row. Nothing here raises: a body that cannot be processed is kept
with its outcome (and a pending payment it names is left to the verification job), and M-Pesa
always gets its acknowledgement.
"""
import ipaddress
import json
import logging
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction

from config.network import address_or_none, in_networks
from hotspot.models import Customer, Package
from hotspot.phone import InvalidPhone, normalise_phone

from . import payments
from .models import Invoice, MpesaCallback, Payment

log = logging.getLogger(__name__)
Outcome = MpesaCallback.Outcome
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
REJECT_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected: invalid account number"}
REJECT_AMOUNT = {"ResultCode": "C2B00013", "ResultDesc": "Rejected: invalid amount"}
MAX_BODY = 64 * 1024
RECEIPT = re.compile(r"^[A-Z0-9]{6,20}$")


class Malformed(ValueError):
    pass


def source_allowed(ip: str) -> bool:
    allowed = settings.MPESA_CALLBACK_ALLOWED_IPS
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return in_networks(address, allowed)


def store(kind: str, raw: bytes, source_ip: str | None) -> MpesaCallback:
    """Keep the body as it came (committed at once, whatever processing does next)."""
    ip = address_or_none(source_ip)
    text = raw[:MAX_BODY].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return MpesaCallback.objects.create(kind=kind, body=text, source_ip=ip)


def _finish(record: MpesaCallback, outcome: str, detail: str = "", payment: Payment | None = None) -> MpesaCallback:
    record.outcome, record.detail, record.payment = outcome, detail[:255], payment
    record.save(update_fields=["outcome", "detail", "payment", "checkout_request_id"])
    if outcome not in (Outcome.CREDITED, Outcome.FAILED, Outcome.ACCEPTED, Outcome.DUPLICATE):
        log.warning("M-Pesa %s %s: %s %s", record.kind, record.pk, outcome, detail)
    return record


def _receive(kind: str, raw: bytes, source_ip: str | None, work) -> MpesaCallback:
    """Store the body, then (from an allowed address) let ``work`` process it, never raising."""
    record = store(kind, raw, source_ip)
    if not source_allowed(source_ip or ""):
        return _finish(record, Outcome.FORBIDDEN, f"from {source_ip}")
    return _guarded(record, work)


def _guarded(record: MpesaCallback, work) -> MpesaCallback:
    try:
        return work(record)
    except Malformed as error:
        return _finish(record, Outcome.MALFORMED, str(error))
    except Exception as error:  # never a 500 to M-Pesa; the body is kept and the job settles the payment
        log.exception("M-Pesa %s %s could not be processed", record.kind, record.pk)
        return _finish(record, Outcome.ERROR, f"{type(error).__name__}: {error}")


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("not JSON") from None
    if not isinstance(body, dict):
        raise Malformed("not a JSON object")
    return body


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Malformed(f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > 1_000_000:
        raise Malformed(f"amount {value!r} out of range")
    return amount.quantize(Decimal("0.01"))


# --- STK ------------------------------------------------------------------------------------------

def _stk_fields(body: dict) -> dict:
    callback = body.get("Body", {}).get("stkCallback") if isinstance(body.get("Body"), dict) else None
    if not isinstance(callback, dict):
        raise Malformed("no Body.stkCallback")
    checkout = callback.get("CheckoutRequestID")
    if not isinstance(checkout, str) or not 0 < len(checkout) <= 64:
        raise Malformed("no CheckoutRequestID")
    code = callback.get("ResultCode")
    if isinstance(code, bool) or not isinstance(code, int | str) or not str(code).lstrip("-").isdigit():
        raise Malformed(f"ResultCode {code!r} is not a number")
    fields = {"checkout": checkout, "code": int(code), "desc": str(callback.get("ResultDesc", ""))[:255]}
    if fields["code"] == 0:
        items = (callback.get("CallbackMetadata") or {}).get("Item") if isinstance(
            callback.get("CallbackMetadata"), dict) else None
        if not isinstance(items, list):
            raise Malformed("success without CallbackMetadata.Item")
        values = {item.get("Name"): item.get("Value") for item in items if isinstance(item, dict)}
        receipt = values.get("MpesaReceiptNumber")
        if not isinstance(receipt, str) or not RECEIPT.match(receipt):
            raise Malformed(f"MpesaReceiptNumber {receipt!r} is not a receipt")
        fields.update(receipt=receipt, amount=_amount(values.get("Amount")))
    return fields


def handle_stk(raw: bytes, source_ip: str | None) -> MpesaCallback:
    return _receive(MpesaCallback.Kind.STK, raw, source_ip, lambda r: _process_stk(r, raw))


def _process_stk(record: MpesaCallback, raw: bytes) -> MpesaCallback:
    fields = _stk_fields(_json(raw))
    record.checkout_request_id = fields["checkout"]
    with transaction.atomic():  # the outcome commits with what it says happened: one commit
        if fields["code"] == 0:
            settled = payments.complete(checkout_request_id=fields["checkout"], receipt=fields["receipt"],
                                        amount=fields["amount"], via="callback")
        else:
            settled = payments.fail(None, fields["code"], fields["desc"], checkout_request_id=fields["checkout"])
        if settled is None:
            return _finish(record, Outcome.UNKNOWN, "no payment with this CheckoutRequestID")
        return _finish(record, settled.outcome, settled.detail, settled.payment)


# --- C2B --------------------------------------------------------------------------------------------

def _c2b_fields(body: dict) -> dict:
    trans_id, account = body.get("TransID"), body.get("BillRefNumber", "")
    if not isinstance(trans_id, str) or not RECEIPT.match(trans_id):
        raise Malformed(f"TransID {trans_id!r} is not a receipt")
    if not isinstance(account, str | int):
        raise Malformed("BillRefNumber is not text")
    # "<account>#<package number>" names a package to buy; a bare account credits the wallet.
    account, _, package = str(account).strip()[:20].partition("#")
    named = package.isdigit() and len(package) < 9
    return {"receipt": trans_id, "amount": _amount(body.get("TransAmount")), "account": account.strip(),
            "package": Package.objects.filter(pk=int(package), is_active=True).first() if named else None}


def match_account(account: str) -> tuple[Customer | None, Invoice | None]:
    """BillRefNumber -> (customer, invoice): an invoice number, a username, or a phone number
    (a new phone number becomes a customer, so paying to the paybill always reaches an account)."""
    account = account.strip()
    if not account:
        return None, None
    invoice = Invoice.objects.select_related("customer", "package").filter(number__iexact=account).first()
    if invoice is not None:
        return invoice.customer, invoice
    customer = Customer.objects.filter(username=account.lower()).first()
    if customer is not None:
        return customer, None
    try:
        phone = normalise_phone(account)
    except InvalidPhone:
        return None, None
    return payments.customer_for_phone(phone), None


def handle_c2b_validation(raw: bytes, source_ip: str | None) -> tuple[MpesaCallback, dict]:
    answer = {}

    def work(r):
        fields = _c2b_fields(_json(raw))
        customer, invoice = _match_without_creating(fields["account"])
        if customer is None:
            answer.update(REJECT_ACCOUNT)
            return _finish(r, Outcome.REJECTED, f"account {fields['account']!r} unknown")
        if invoice is not None and fields["amount"] != invoice.amount:
            answer.update(REJECT_AMOUNT)
            return _finish(r, Outcome.REJECTED, f"invoice {invoice.number} is for {invoice.amount}")
        answer.update(ACCEPT)
        return _finish(r, Outcome.ACCEPTED)

    record = _receive(MpesaCallback.Kind.C2B_VALIDATION, raw, source_ip, work)
    return record, answer or REJECT_ACCOUNT


def _match_without_creating(account: str) -> tuple[Customer | None, Invoice | None]:
    try:
        normalise_phone(account)
        return Customer(), None  # any valid phone number is an account (created on confirmation)
    except InvalidPhone:
        return match_account(account)


def handle_c2b_confirmation(raw: bytes, source_ip: str | None) -> MpesaCallback:
    return _receive(MpesaCallback.Kind.C2B_CONFIRMATION, raw, source_ip, lambda r: _process_c2b(r, raw))


def _process_c2b(record: MpesaCallback, raw: bytes) -> MpesaCallback:
    fields = _c2b_fields(_json(raw))
    existing = Payment.objects.filter(mpesa_receipt=fields["receipt"]).first()
    if existing is not None:
        return _finish(record, Outcome.DUPLICATE, f"receipt {fields['receipt']} already recorded", existing)
    customer, invoice = match_account(fields["account"])
    with transaction.atomic():
        payment = Payment(customer=customer, phone=(customer.phone if customer else "") or "",
                          amount=fields["amount"], method=Payment.Method.MPESA_C2B, invoice=invoice,
                          mpesa_receipt=fields["receipt"], note=f"Account {fields['account']!r}"[:255])
        if invoice is not None and fields["amount"] != invoice.amount:
            payment.invoice = None  # a different sum: it lands in the wallet, not on the invoice
        package = fields["package"]
        if invoice is None and customer is not None and package is not None and fields["amount"] == package.price:
            payment.package = package
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:  # the same receipt confirmed concurrently (unique constraint)
            winner = Payment.objects.filter(mpesa_receipt=fields["receipt"]).first()
            if winner is None:
                raise
            return _finish(record, Outcome.DUPLICATE, f"receipt {fields['receipt']} already recorded", winner)
        settled = payments.complete(payment.pk, via="c2b")
    if customer is None:
        return _finish(record, Outcome.UNMATCHED, f"account {fields['account']!r}: no customer", settled.payment)
    return _finish(record, settled.outcome, settled.detail, settled.payment)


def kind_of(raw: bytes) -> str:
    """The documented endpoint takes STK callbacks and C2B confirmations: told apart by shape."""
    if b'"TransID"' in raw and b'"stkCallback"' not in raw:
        return MpesaCallback.Kind.C2B_CONFIRMATION
    return MpesaCallback.Kind.STK


def handle_any(raw: bytes, source_ip: str | None) -> tuple[MpesaCallback, dict]:
    if kind_of(raw) == MpesaCallback.Kind.C2B_CONFIRMATION:
        return handle_c2b_confirmation(raw, source_ip), ACK
    return handle_stk(raw, source_ip), ACK
