"""Whatever is posted to the callback URLs is kept and answered, and only a valid body for a
pending payment credits anything: C2B confirmations and validations, and a fuzz of 1,200 bodies."""
import json
import random
import string
from decimal import Decimal

import pytest

from billing import payments
from billing.models import Invoice, LedgerEntry, MpesaCallback, Payment
from hotspot import services
from hotspot.models import Package, Subscription

from .payments_kit import PHONE, TOKEN

URL = f"/api/payments/mpesa/callback/{TOKEN}"


@pytest.fixture(autouse=True)
def token(settings):
    settings.MPESA_CALLBACK_TOKEN = TOKEN


@pytest.fixture
def package(db):
    return services.save_package(Package(name="Weekly", price=300, validity_minutes=7 * 1440))


def post(client, body, path=URL):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.generic("POST", path, raw, content_type="application/json")


def confirmation(account, amount="300.00", trans_id=None):
    return {"TransactionType": "Pay Bill", "TransID": trans_id or "TC" + "".join(random.choices(string.digits, k=8)),
            "TransTime": "20261123101010", "TransAmount": amount, "BusinessShortCode": "174379",
            "BillRefNumber": account, "InvoiceNumber": "", "OrgAccountBalance": "", "ThirdPartyTransID": "",
            "MSISDN": "2547 ***  *** 126", "FirstName": "JOHN"}


def test_paybill_to_a_phone_number_lands_in_a_new_customers_wallet(client, db):
    answer = post(client, confirmation("0712 345 678", "120.00"), f"/api/payments/c2b/confirmation/{TOKEN}")
    assert answer.status_code == 200 and answer.json()["ResultCode"] == 0
    payment = Payment.objects.get()
    assert payment.method == "mpesa_c2b" and payment.status == "completed" and payment.customer.phone == PHONE
    assert payments.balance(payment.customer) == Decimal("120.00") and payment.subscription is None
    assert MpesaCallback.objects.get().outcome == "credited"


def test_paybill_naming_a_package_buys_it_and_a_replay_is_a_duplicate(client, package):
    customer = services.create_customer(PHONE)
    body = confirmation(f"{customer.username}#{package.pk}")
    assert post(client, body).status_code == 200  # the documented endpoint takes C2B too
    assert post(client, body).status_code == 200
    payment = Payment.objects.get()
    assert payment.subscription.package == package and payments.balance(customer) == 0
    assert list(MpesaCallback.objects.order_by("pk").values_list("outcome", flat=True)) == ["credited", "duplicate"]
    # Both bodies are found by their receipt through its index, the duplicate too.
    assert MpesaCallback.objects.filter(mpesa_receipt=body["TransID"]).count() == 2


def test_paybill_to_an_invoice_number_pays_it(client, package):
    customer = services.create_customer(PHONE)
    from django.utils import timezone
    now = timezone.now()
    invoice = Invoice.objects.create(number="INV000042", customer=customer, package=package, amount=300,
                                     period_start=now, period_end=now, due_at=now)
    post(client, confirmation("inv000042"), f"/api/payments/c2b/confirmation/{TOKEN}")
    invoice.refresh_from_db()
    assert invoice.status == "paid" and Subscription.objects.get(customer=customer).package == package


def test_unmatched_money_is_recorded_for_staff_not_lost(client, db):
    post(client, confirmation("NOSUCHACCOUNT", "75.00"), f"/api/payments/c2b/confirmation/{TOKEN}")
    payment = Payment.objects.get()
    assert payment.customer is None and payment.amount == Decimal("75.00") and "NOSUCHACCOUNT" in payment.note
    assert MpesaCallback.objects.get().outcome == "unmatched"


def test_validation_accepts_known_accounts_and_rejects_the_rest(client, package):
    customer = services.create_customer(PHONE)
    url = f"/api/payments/c2b/validation/{TOKEN}"
    assert post(client, confirmation(customer.username), url).json()["ResultCode"] == "0"
    assert post(client, confirmation("0733 000 000"), url).json()["ResultCode"] == "0"
    assert post(client, confirmation("NOSUCHACCOUNT"), url).json()["ResultCode"] == "C2B00012"
    assert post(client, b"{", url).json()["ResultCode"] == "C2B00012"
    assert not Payment.objects.exists()


def _stk_body(checkout: str, amount=300, receipt="TAB1234567", code=0) -> dict:
    callback = {"MerchantRequestID": "mr-1", "CheckoutRequestID": checkout, "ResultCode": code,
                "ResultDesc": "The service request is processed successfully."}
    if code == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": amount}, {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "Balance"}, {"Name": "TransactionDate", "Value": 20261123101010},
            {"Name": "PhoneNumber", "Value": 254712345678}]}
    return {"Body": {"stkCallback": callback}}


def _junk(rng: random.Random, depth: int = 0):
    kinds = ["int", "float", "str", "none", "bool", "list", "dict"] if depth < 4 else ["int", "str", "none"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, -1, 1, 2**63, -(2**70), 1032, 300, 10**30])
    if kind == "float":
        return rng.choice([0.0, 300.0, 299.999, 1e308, -0.0, 3.5])
    if kind == "str":
        return rng.choice(["", "0", "300", "NaN", "Infinity", "ws_CO_x", "\u0000", "💸" * 50, "A" * 5000,
                           "'; DROP TABLE billing_payment;--", "TAB1234567"])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "list":
        return [_junk(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["Body", "stkCallback", "ResultCode", "CallbackMetadata", "Item", "Name", "Value", "x"]):
            _junk(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _break(rng: random.Random, checkout: str) -> bytes:
    """A body that must not credit: each mutation breaks a valid success in at least one way."""
    body = _stk_body(checkout)
    callback = body["Body"]["stkCallback"]
    items = callback["CallbackMetadata"]["Item"]
    mutation = rng.randrange(12)
    if mutation == 0:
        items[0]["Value"] = rng.choice([299, 301, 0, -300, "300x", None, [], {}, 1e400 if False else "1e400", True])
    elif mutation == 1:
        items[1]["Value"] = rng.choice([None, "", 12345, "short", "lower1234567", "X" * 40, {"a": 1}, "TAB 234567"])
    elif mutation == 2:
        callback["ResultCode"] = rng.choice(["zero", None, [], {}, 0.5, "0x0", True, "", "１"])
    elif mutation == 3:
        callback["CheckoutRequestID"] = rng.choice([None, "", 123, "ws_CO_unknown", "x" * 100, [checkout]])
    elif mutation == 4:
        del callback["CallbackMetadata"]
    elif mutation == 5:
        callback["CallbackMetadata"] = rng.choice([None, [], "items", {"Item": "x"}, {"Item": [1, 2, None]}])
    elif mutation == 6:
        body = rng.choice([[], "text", 42, None, {"Body": None}, {"Body": {"stkCallback": []}}, {}])
    elif mutation == 7:
        body = _junk(rng)
        return json.dumps(body).encode()[:60000]
    elif mutation == 8:
        raw = json.dumps(body).encode()
        return raw[: rng.randrange(len(raw))]  # truncated
    elif mutation == 9:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    elif mutation == 10:
        return b"[" * 5000 + b"]" * 5000  # deep nesting
    else:
        callback["ResultCode"] = rng.choice([1, 1032, 1037, 2001])  # a failure, which never credits
        return json.dumps(body).encode()
    return json.dumps(body, allow_nan=True).encode()


def test_a_fuzz_of_bodies_never_errs_and_never_credits(client, package):
    customer = services.create_customer(PHONE)
    pending = Payment.objects.create(customer=customer, phone=PHONE, package=package, amount=300,
                                     method="mpesa_stk", checkout_request_id="ws_CO_FUZZ0001")
    rng = random.Random(20261123)
    statuses = set()
    for _ in range(1200):
        raw = _break(rng, pending.checkout_request_id)
        response = client.generic("POST", URL, raw, content_type="application/json")
        statuses.add(response.status_code)
        assert response.status_code == 200 and response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
        pending.refresh_from_db()
        if pending.status != "pending":  # a failure body settles it; put it back for the next round
            Payment.objects.filter(pk=pending.pk).update(status="pending", result_code=None)
    assert statuses == {200}
    assert MpesaCallback.objects.count() == 1200
    assert not MpesaCallback.objects.filter(outcome__in=["credited", "received", "error"]).exists()
    assert not LedgerEntry.objects.exists() and not Subscription.objects.exists()
    assert Payment.objects.filter(status="completed").count() == 0
    # And the one well-formed body after all that still credits, once.
    post(client, _stk_body(pending.checkout_request_id))
    post(client, _stk_body(pending.checkout_request_id))
    assert LedgerEntry.objects.filter(kind="payment").count() == 1


def test_c2b_urls_are_registered_and_a_paybill_payment_reaches_the_wallet(mpesa, transactional_db):
    from django.core.management import call_command
    call_command("register_c2b_urls")
    assert mpesa.registered["confirmation"].endswith(f"/api/payments/c2b/confirmation/{TOKEN}")
    mpesa.c2b_payment(amount=40, bill_ref="0712345678")
    payment = Payment.objects.get()
    assert payment.method == "mpesa_c2b" and payments.balance(payment.customer) == Decimal("40.00")


# --- acknowledged only once committed (issue 22: 2, 8, 9) ----------------------------------------------

C2B_URL = f"/api/payments/c2b/confirmation/{TOKEN}"
STK_URL = f"/api/payments/callback/{TOKEN}"


def refuse_ledger_writes():
    """Make PostgreSQL itself refuse every credit (a trigger), as a failing disk or a broken
    constraint would: a real processing failure, no code of ours replaced."""
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_refuse_ledger() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'the ledger refuses writes (test)'; END $$")
        cursor.execute("CREATE TRIGGER test_refuse_ledger BEFORE INSERT ON billing_ledgerentry "
                       "FOR EACH STATEMENT EXECUTE FUNCTION test_refuse_ledger()")


def accept_ledger_writes():
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_ledger ON billing_ledgerentry")
        cursor.execute("DROP FUNCTION test_refuse_ledger()")


def later(seconds=3600):
    from datetime import timedelta

    from django.utils import timezone
    return timezone.now() + timedelta(seconds=seconds)


def test_a_nul_in_the_account_number_is_credited_and_only_then_accepted(client, db):
    customer = services.create_customer(PHONE)
    answer = post(client, confirmation(customer.username + "\u0000", "120.00", trans_id="TNUL000001"), C2B_URL)
    assert answer.status_code == 200 and answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    payment = Payment.objects.get(mpesa_receipt="TNUL000001")
    assert payment.customer == customer and payment.status == "completed" and "\x00" not in payment.note
    assert payments.balance(customer) == Decimal("120.00")
    assert MpesaCallback.objects.get().outcome == "credited"
    # Unknown account with a NUL: recorded as unassigned money, also not an error.
    post(client, confirmation("NOBODY\u0000\ud800", "75.00", trans_id="TNUL000002"), C2B_URL)
    assert Payment.objects.get(mpesa_receipt="TNUL000002").customer is None
    # And in an STK callback's fields too.
    pending = Payment.objects.create(customer=customer, phone=PHONE, amount=300, method="mpesa_stk",
                                     checkout_request_id="ws_CO_NUL1")
    body = _stk_body("ws_CO_NUL1", code=1032)
    body["Body"]["stkCallback"]["ResultDesc"] = "Cancelled\u0000 by user"
    assert post(client, body, STK_URL).json()["ResultCode"] == 0
    pending.refresh_from_db()
    assert pending.status == "cancelled" and pending.result_desc == "Cancelled by user"


@pytest.mark.parametrize("kind", ["stk", "c2b"])
def test_a_processing_failure_is_not_acknowledged_and_the_sweep_credits_it_once(client, package, kind, settings):
    from billing import callback_sweeps
    customer = services.create_customer(PHONE)
    pending = Payment.objects.create(customer=customer, phone=PHONE, package=package, amount=300,
                                     method="mpesa_stk", checkout_request_id="ws_CO_FAIL1")
    body, url = ((_stk_body("ws_CO_FAIL1"), STK_URL) if kind == "stk"
                 else (confirmation(customer.username, trans_id="TFAIL00001"), C2B_URL))
    refuse_ledger_writes()
    answer = post(client, body, url)
    assert answer.status_code == 503 and answer.json()["ResultCode"] != 0
    stored = MpesaCallback.objects.get()
    assert stored.outcome == "error" and json.loads(stored.body) == body
    assert not LedgerEntry.objects.exists()
    # Not due before its time: the request that stored it may still be working on it.
    assert callback_sweeps.reprocess_due().settled == 0
    accept_ledger_writes()
    assert callback_sweeps.reprocess_due(now=later()).settled == 1
    assert callback_sweeps.reprocess_due(now=later(10**6)).settled == 0  # settled: never taken again
    stored.refresh_from_db()
    assert stored.outcome == "credited" and stored.attempts == 1
    assert LedgerEntry.objects.filter(kind="payment").count() == 1
    if kind == "stk":
        pending.refresh_from_db()
        assert pending.status == "completed"
    else:
        assert Payment.objects.get(mpesa_receipt="TFAIL00001").status == "completed"


def test_a_body_that_keeps_failing_gives_up_and_stays_in_reconciliation_until_settled(client, package, settings):
    from django.utils import timezone

    from billing import callback_sweeps, reconciliation
    settings.MPESA_CALLBACK_MAX_ATTEMPTS = 2
    customer = services.create_customer(PHONE)
    refuse_ledger_writes()
    assert post(client, confirmation(customer.username, trans_id="TSTUCK0001"), C2B_URL).status_code == 503
    post(client, b'{"TransID": "TBROKEN", "TransAmount": ', C2B_URL)  # can never succeed
    assert MpesaCallback.objects.get(body__startswith='{"TransID": "TBROKEN"').outcome == "malformed"
    runs = [callback_sweeps.reprocess_due(now=later(10**n)) for n in (4, 6, 8)]
    assert [(r.settled, r.failed, r.gave_up) for r in runs] == [(0, 1, 0), (0, 0, 1), (0, 0, 0)]
    stuck = MpesaCallback.objects.get(outcome="gave_up")
    assert stuck.attempts == 2
    tomorrow = timezone.localdate() + __import__("datetime").timedelta(days=1)
    listed = [m for m in reconciliation.build(tomorrow).mismatches if m.kind == "callback not settled"]
    assert [m.callback_id for m in listed] == [stuck.pk] and "TSTUCK0001" in listed[0].text
    accept_ledger_writes()
    assert callback_sweeps.retry_now(stuck.pk)
    assert callback_sweeps.reprocess_due(now=later()).settled == 1
    assert Payment.objects.get(mpesa_receipt="TSTUCK0001").status == "completed"
    assert not [m for m in reconciliation.build(tomorrow).mismatches if m.kind == "callback not settled"]


def test_a_wrong_token_flood_is_truncated_rate_limited_and_purged(client, db, settings):
    from datetime import timedelta

    from billing import callback_sweeps
    settings.MPESA_BAD_TOKEN_LIMIT_PER_IP = 5
    big = b'{"x": "' + b"A" * 1_000_000 + b'"}'
    statuses = [post(client, big, "/api/payments/mpesa/callback/wrong-token").status_code for _ in range(30)]
    assert statuses == [404] * 5 + [429] * 25
    kept = MpesaCallback.objects.filter(outcome="bad_token")
    assert kept.count() == 5 and max(len(c.body) for c in kept) <= 2048
    # Another address has its own allowance.
    assert client.generic("POST", "/api/payments/c2b/confirmation/nope", b"{}", content_type="application/json",
                          REMOTE_ADDR="198.51.100.7").status_code == 404
    # Retention: old wrong-token posts go; a real callback as old stays.
    post(client, confirmation("NOSUCHACCOUNT", "75.00"), C2B_URL)
    old = timezone_now() - timedelta(days=settings.MPESA_BAD_TOKEN_RETENTION_DAYS + 1)
    MpesaCallback.objects.update(received_at=old)
    client.generic("POST", "/api/payments/mpesa/callback/wrong-again", b"{}", REMOTE_ADDR="198.51.100.8")
    assert callback_sweeps.purge_bad_token() == 6
    assert list(MpesaCallback.objects.order_by("pk").values_list("outcome", flat=True)) == ["unmatched", "bad_token"]


def timezone_now():
    from django.utils import timezone
    return timezone.now()


def test_a_receipt_with_a_trailing_newline_is_not_a_second_receipt(client, db):
    customer = services.create_customer(PHONE)
    post(client, confirmation(customer.username, "40.00", trans_id="TNL0000001"), C2B_URL)
    post(client, confirmation(customer.username, "40.00", trans_id="TNL0000001\n"), C2B_URL)
    assert Payment.objects.count() == 1 and payments.balance(customer) == Decimal("40.00")


def test_odd_amounts_are_never_rounded_to_a_match(client, package):
    customer = services.create_customer(PHONE)
    pending = Payment.objects.create(customer=customer, phone=PHONE, package=package, amount=300,
                                     method="mpesa_stk", checkout_request_id="ws_CO_ODD1")
    raw = json.dumps(_stk_body("ws_CO_ODD1", amount=300)).replace('"Value": 300', '"Value": 299.995').encode()
    assert post(client, raw, STK_URL).json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    pending.refresh_from_db()
    callback = MpesaCallback.objects.get()
    assert pending.status == "pending" and callback.outcome == "amount_mismatch" and "299.995" in callback.detail
    for amount in ("9.995", "12.345"):
        post(client, confirmation(customer.username, amount, trans_id=f"TODD{amount.replace('.', '')}"), C2B_URL)
        callback = MpesaCallback.objects.get(kind="c2b_confirmation", body__contains=amount)
        assert callback.outcome == "amount_mismatch" and amount in callback.detail
    assert not Payment.objects.filter(method="mpesa_c2b").exists() and not LedgerEntry.objects.exists()
    validation = post(client, confirmation(customer.username, "12.345"), f"/api/payments/c2b/validation/{TOKEN}")
    assert validation.json()["ResultCode"] == "C2B00013"
    # Whole cents written oddly still match.
    post(client, json.dumps(_stk_body("ws_CO_ODD1", receipt="TAB7654321")).replace(
        '"Value": 300', '"Value": 300.000').encode(), STK_URL)
    pending.refresh_from_db()
    assert pending.status == "completed"


def test_a_parallel_wrong_token_burst_stores_no_more_than_the_limit(transactional_db, settings):
    import threading

    from django.test import Client

    from .payments_kit import closing
    settings.MPESA_BAD_TOKEN_LIMIT_PER_IP = 5
    start, statuses = threading.Barrier(20), []

    def probe():
        start.wait()
        statuses.append(post(Client(), b"{}" + b" " * 5000, "/api/payments/mpesa/callback/guess").status_code)

    threads = [threading.Thread(target=closing(probe)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [404] * 5 + [429] * 15
    assert MpesaCallback.objects.filter(outcome="bad_token").count() == 5
