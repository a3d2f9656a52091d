"""What M-Pesa posts to us: STK callbacks and C2B validation/confirmation bodies.

Each body is stored exactly as received, committed, before anything reads it; processing then
records its outcome on that row. Nothing here raises past the store: a body that cannot be
processed is kept with its outcome. M-Pesa hears "Accepted" only once what the body says is
committed (the payment, the unassigned money, or the verdict that it can never be credited:
malformed, unknown, a mismatch); anything else answers RETRY and the body waits in `received` or
`error` for billing/callback_sweeps.py to process it again. A body from an address outside the
allowed callback networks (M-Pesa settings; MPESA_CALLBACK_ALLOWED_IPS by default) is `forbidden`:
answered RETRY too (a stale allowlist must not make a real payment acknowledged and lost) and
listed by reconciliation until staff settle it; it is never processed automatically, since its
source is not trusted.

Whatever processing changes (a payment credited or failed, a customer created for a new phone number)
is M-Pesa's doing, from the address that posted the body: the audit trail says so, whether the
request or the sweep (billing/callback_sweeps.py) processes it.
"""
import json
import logging
import re
from contextlib import suppress
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg_pool import PoolTimeout

from audit.actors import Actor, acting_as
from hotspot.models import Customer, Package
from hotspot.phone import InvalidPhone, normalise_phone
from lib.network import address_or_none, address_subject
from lib.throttle import Throttle
from lib.whole_numbers import ascii_whole_number

from . import callback_spool, payments
from .daraja import callback_allowed
from .models import Invoice, MpesaCallback, Payment

log = logging.getLogger(__name__)
Outcome = MpesaCallback.Outcome
ACK = {"ResultCode": 0, "ResultDesc": "Accepted"}
# Not committed: a non-2xx answer and a non-zero ResultCode, so that whatever delivers the
# callback (Daraja, a proxy, an aggregator) counts it as not delivered. Safaricom says it does not
# resend (REFERENCE.md), so the stored body and the sweep are what settle it, not the resend.
RETRY = {"ResultCode": 1, "ResultDesc": "Not recorded yet: send again"}
RETRY_STATUS = 503
ACCEPT = {"ResultCode": "0", "ResultDesc": "Accepted"}
REJECT_ACCOUNT = {"ResultCode": "C2B00012", "ResultDesc": "Rejected: invalid account number"}
REJECT_AMOUNT = {"ResultCode": "C2B00013", "ResultDesc": "Rejected: invalid amount"}
MAX_BODY = 64 * 1024
# A wrong token is someone else's post: enough of it to see what they tried, no more.
BAD_TOKEN_BODY = 2 * 1024
RECEIPT = re.compile(r"^[A-Z0-9]{6,20}$")
# Settled for good (committed, or never creditable whatever is resent): these get "Accepted".
FINAL = {Outcome.CREDITED, Outcome.FAILED, Outcome.DUPLICATE, Outcome.UNKNOWN, Outcome.AMOUNT_MISMATCH,
         Outcome.MALFORMED, Outcome.UNMATCHED, Outcome.ACCEPTED, Outcome.REJECTED}
# Result codes and package numbers are read from ASCII digits only (lib.whole_numbers): "²"
# passed str.isdigit() and then int() refused it, an error retried until given up.
LARGEST_CODE = 99_999_999
CENT = Decimal("0.01")


class Malformed(ValueError):
    pass


def source_allowed(ip: str) -> bool:
    # The allowed networks are an M-Pesa setting, read at each callback (billing.daraja).
    return callback_allowed(ip)


def store(kind: str, raw: bytes, source_ip: str | None, limit: int = MAX_BODY, outcome: str = Outcome.RECEIVED,
          detail: str = "", received_at=None, retry_at=None, drain_spool: bool = True) -> MpesaCallback:
    """Keep the body as it came (committed at once, whatever processing does next).

    Due for the sweep at ``retry_at`` (by default MPESA_CALLBACK_RETRY_SECONDS from now, when
    the request storing it should long have settled it). The spool drain passes the time the body
    came as ``retry_at`` too (overdue at once), and ``drain_spool=False`` (it is the drain).

    Retried once when the database connection turns out dead: storing is the request's first
    statement, so nothing of ours ran on that connection and repeating it cannot double anything
    (at worst a second copy of the body, which processing sees as a duplicate). Later statements
    are not retried here: the row then stays `received` and the sweep finishes it."""
    now = timezone.now()
    retry_at = retry_at or now + timedelta(seconds=settings.MPESA_CALLBACK_RETRY_SECONDS)
    row = MpesaCallback(kind=kind, body=raw[:limit].decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
                        source_ip=address_or_none(source_ip), received_at=received_at or now, outcome=outcome,
                        detail=detail, retry_at=retry_at)
    try:
        row.save(force_insert=True)
    except (OperationalError, InterfaceError) as error:  # the connection or server failed, not the row
        if isinstance(error.__cause__, PoolTimeout):
            raise  # no connection came within DATABASE_POOL_TIMEOUT: a second wait would not help
        log.warning("database connection lost before storing an M-Pesa body; storing it again", exc_info=True)
        with suppress(DatabaseError):
            connection.close()  # back to the pool, which discards it; the retry takes a fresh one
        row.save(force_insert=True)
    if drain_spool and callback_spool.waiting():  # the database takes writes again: bring in what it refused
        try:
            callback_spool.drain(store)
        except Exception:  # the spool waits for the next store or the sweep; this body is stored
            log.warning("M-Pesa spool not drained", exc_info=True)
    return row


def bad_token_throttle() -> Throttle:
    window = settings.MPESA_BAD_TOKEN_WINDOW_SECONDS
    return Throttle("callback-bad-token", settings.MPESA_BAD_TOKEN_LIMIT_PER_IP, window, window)


def bad_token_cap() -> Throttle:
    """All wrong-token posts together: whoever rotates addresses (any of a /64, or many IPv4s) still
    stores no more than MPESA_BAD_TOKEN_LIMIT_TOTAL bodies per window, so the disk cannot fill."""
    window = settings.MPESA_BAD_TOKEN_WINDOW_SECONDS
    return Throttle("callback-bad-token-total", settings.MPESA_BAD_TOKEN_LIMIT_TOTAL, window, window)


def keep_bad_token(kind: str, raw: bytes, source_ip: str | None, token: str) -> bool:
    """A post to a wrong token: kept truncated, at most so many per source address (an IPv6 /64)
    and in all per window (the retention sweep deletes them later). False when over a limit."""
    # Counted before storing: a burst gets no more. The address first, so one noisy address
    # does not use up the total for the others.
    if bad_token_throttle().take(address_subject(source_ip or "unknown")) or bad_token_cap().take("all"):
        return False
    # One INSERT with its outcome: never a moment in `received`, where the sweep would process it.
    store(kind, raw, source_ip, limit=BAD_TOKEN_BODY, outcome=Outcome.BAD_TOKEN, detail=f"token {token[:40]!r}")
    return True


def answer(record: MpesaCallback) -> tuple[dict, int]:
    """What M-Pesa hears about a money body (STK callback, C2B confirmation), and the HTTP status."""
    return (ACK, 200) if record.outcome in FINAL else (RETRY, RETRY_STATUS)


def _finish(record: MpesaCallback, outcome: str, detail: str = "", payment: Payment | None = None) -> MpesaCallback:
    """Record the outcome, unless the row was settled meanwhile (a sweep and a slow request on one
    body): then the first outcome stays (`credited`, not the second one's `duplicate`) and
    ``record`` takes it, so M-Pesa hears what is recorded."""
    updated = MpesaCallback.objects.filter(pk=record.pk, outcome__in=MpesaCallback.UNSETTLED).update(
        outcome=outcome, detail=detail[:255], payment=payment, checkout_request_id=record.checkout_request_id,
        mpesa_receipt=record.mpesa_receipt)
    if not updated:
        record.refresh_from_db(fields=["outcome", "detail", "payment", "checkout_request_id", "mpesa_receipt"])
        return record
    record.outcome, record.detail, record.payment = outcome, detail[:255], payment
    if outcome not in (Outcome.CREDITED, Outcome.FAILED, Outcome.ACCEPTED, Outcome.DUPLICATE):
        log.warning("M-Pesa %s %s: %s %s", record.kind, record.pk, outcome, detail)
    return record


def _receive(kind: str, raw: bytes, source_ip: str | None, work) -> MpesaCallback:
    """Store the body, then (from an allowed address) let ``work`` process it, never raising."""
    record = store(kind, raw, source_ip)
    return process(record, raw, work)


def process(record: MpesaCallback, raw: bytes, work=None) -> MpesaCallback:
    """Process a stored body (``work``: by its kind), recording the outcome; never raises."""
    if not source_allowed(record.source_ip or ""):
        return _guarded(record, lambda r: _finish(r, Outcome.FORBIDDEN, f"from {record.source_ip}"))
    with acting_as(Actor.mpesa(record.source_ip)):
        return _guarded(record, work or (lambda r: PROCESS[r.kind](r, raw)))


def _guarded(record: MpesaCallback, work) -> MpesaCallback:
    try:
        return work(record)
    except Malformed as error:
        detail = str(error)
        return _guarded(record, lambda r: _finish(r, Outcome.MALFORMED, detail))
    except Exception as error:  # never a 500 to M-Pesa; the body is kept and the sweep takes it again
        log.exception("M-Pesa %s %s could not be processed", record.kind, record.pk)
        record.outcome, record.detail = Outcome.ERROR, f"{type(error).__name__}: {error}"[:255]
        try:
            MpesaCallback.objects.filter(pk=record.pk, outcome__in=MpesaCallback.UNSETTLED).update(
                outcome=Outcome.ERROR, detail=record.detail)
        except Exception:  # the database is gone: the row stays `received`, which the sweep takes too
            log.warning("M-Pesa %s %s: outcome not recorded", record.kind, record.pk, exc_info=True)
        return record


def _clean(value) -> str:
    """Text as PostgreSQL can store it: no NUL, no lone surrogates (both valid in JSON strings)."""
    return str(value).replace("\x00", "").encode("utf-8", errors="replace").decode("utf-8")


def _fields(read, raw: bytes) -> dict:
    """``read`` (_stk_fields, _c2b_fields) over the JSON body; any value it cannot read is Malformed,
    a verdict, never an error the sweep would retry forever."""
    try:
        return read(_json(raw))
    except Malformed:
        raise
    except (ValueError, TypeError) as error:
        raise Malformed(f"unreadable: {type(error).__name__}: {error}"[:200]) from None


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw, parse_float=Decimal)  # amounts exactly as written, never a float
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("not JSON") from None
    if not isinstance(body, dict):
        raise Malformed("not a JSON object")
    return body


def _amount(value) -> Decimal:
    """The amount exactly as M-Pesa wrote it: never rounded, so 9.995 stays 9.995 (whole cents
    are checked where it is compared or recorded)."""
    if isinstance(value, bool):
        raise Malformed(f"amount {value!r} is not a number")
    try:
        amount = Decimal(_clean(value))
    except (InvalidOperation, ValueError):
        raise Malformed(f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > 1_000_000:
        raise Malformed(f"amount {value!r} out of range")
    return amount


def whole_cents(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


# --- STK ------------------------------------------------------------------------------------------

def _stk_fields(body: dict) -> dict:
    callback = body.get("Body", {}).get("stkCallback") if isinstance(body.get("Body"), dict) else None
    if not isinstance(callback, dict):
        raise Malformed("no Body.stkCallback")
    checkout = callback.get("CheckoutRequestID")
    checkout = _clean(checkout) if isinstance(checkout, str) else None
    if not checkout or len(checkout) > 64:
        raise Malformed("no CheckoutRequestID")
    code = callback.get("ResultCode")
    number = None if isinstance(code, bool) or not isinstance(code, int | str) else ascii_whole_number(
        str(code).removeprefix("-"), LARGEST_CODE)
    if number is None:
        raise Malformed(f"ResultCode {code!r} is not a number")
    number = -number if str(code).startswith("-") else number
    fields = {"checkout": checkout, "code": number, "desc": _clean(callback.get("ResultDesc", ""))[:255]}
    if fields["code"] == 0:
        items = (callback.get("CallbackMetadata") or {}).get("Item") if isinstance(
            callback.get("CallbackMetadata"), dict) else None
        if not isinstance(items, list):
            raise Malformed("success without CallbackMetadata.Item")
        values = {item.get("Name"): item.get("Value") for item in items if isinstance(item, dict)}
        receipt = values.get("MpesaReceiptNumber")
        if not isinstance(receipt, str) or not RECEIPT.fullmatch(receipt):
            raise Malformed(f"MpesaReceiptNumber {receipt!r} is not a receipt")
        fields.update(receipt=receipt, amount=_amount(values.get("Amount")))
    return fields


def handle_stk(raw: bytes, source_ip: str | None) -> MpesaCallback:
    """Store and process an STK callback; its outcome says what M-Pesa is answered (answer())."""
    return _receive(MpesaCallback.Kind.STK, raw, source_ip, lambda r: _process_stk(r, raw))


def _process_stk(record: MpesaCallback, raw: bytes) -> MpesaCallback:
    fields = _fields(_stk_fields, raw)
    record.checkout_request_id, record.mpesa_receipt = fields["checkout"], fields.get("receipt", "")
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
    if not isinstance(trans_id, str) or not RECEIPT.fullmatch(trans_id):
        raise Malformed(f"TransID {trans_id!r} is not a receipt")
    if not isinstance(account, str | int):
        raise Malformed("BillRefNumber is not text")
    # "<account>#<package number>" names a package to buy; a bare account credits the wallet.
    account, _, package = _clean(account).strip()[:20].partition("#")
    package_id = ascii_whole_number(package)
    return {"receipt": trans_id, "amount": _amount(body.get("TransAmount")), "account": account.strip(),
            "package": Package.objects.filter(pk=package_id, is_active=True).first() if package_id else None}


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
        fields = _fields(_c2b_fields, raw)
        r.mpesa_receipt = fields["receipt"]
        customer, invoice = _match_without_creating(fields["account"])
        if customer is None:
            answer.update(REJECT_ACCOUNT)
            return _finish(r, Outcome.REJECTED, f"account {fields['account']!r} unknown")
        if not whole_cents(fields["amount"]) or invoice is not None and fields["amount"] != invoice.amount:
            answer.update(REJECT_AMOUNT)
            return _finish(r, Outcome.REJECTED, f"amount {fields['amount']}" + (
                f": invoice {invoice.number} is for {invoice.amount}" if invoice else " is not whole cents"))
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
    fields = _fields(_c2b_fields, raw)
    record.mpesa_receipt = fields["receipt"]
    existing = Payment.objects.filter(mpesa_receipt=fields["receipt"]).first()
    if existing is not None:
        return _finish(record, Outcome.DUPLICATE, f"receipt {fields['receipt']} already recorded", existing)
    if not whole_cents(fields["amount"]):  # no such sum can be paid: kept for staff, never rounded
        return _finish(record, Outcome.AMOUNT_MISMATCH,
                       f"receipt {fields['receipt']}: amount {fields['amount']} is not whole cents")
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


def handle_any(raw: bytes, source_ip: str | None, kind: str | None = None) -> MpesaCallback:
    """The documented endpoint's body, by ``kind`` when the caller has already told it (kind_of)."""
    if (kind or kind_of(raw)) == MpesaCallback.Kind.C2B_CONFIRMATION:
        return handle_c2b_confirmation(raw, source_ip)
    return handle_stk(raw, source_ip)


# How the sweep processes a stored body again, by its kind.
PROCESS = {MpesaCallback.Kind.STK: _process_stk, MpesaCallback.Kind.C2B_CONFIRMATION: _process_c2b}
