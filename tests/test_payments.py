"""M-Pesa payments end to end: our code -> httpx -> the Daraja simulator -> callbacks over HTTP to
a live server -> settled exactly once, with access granted in RADIUS."""
import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from billing import payments, verification
from billing.models import LedgerEntry, MpesaCallback, Notification, Payment
from hotspot.models import Subscription
from radius.models import RadCheck

from .payments_kit import PHONE, TOKEN, closing, settled, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
Status = Payment.Status


def credits(payment) -> int:
    return LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.PAYMENT).count()


def test_a_paid_prompt_activates_the_package_once(mpesa, daily):
    payment = payments.start_stk(phone="0712 345 678", package=daily, mac="AA:BB:CC:DD:EE:01", ip="10.5.50.20")
    assert payment.status == Status.PENDING and payment.checkout_request_id.startswith("ws_CO_")
    payment = settled(payment)
    assert payment.status == Status.COMPLETED and payment.mpesa_receipt
    assert payment.subscription.status == Subscription.Status.ACTIVE
    assert payment.subscription.package == daily
    customer = payment.customer
    assert customer.phone == PHONE and customer.last_mac == "AA-BB-CC-DD-EE-01"
    assert RadCheck.objects.filter(username=customer.username, attribute="Cleartext-Password").exists()
    assert list(customer.ledger.order_by("pk").values_list("kind", "amount")) == [
        ("payment", Decimal("50.00")), ("purchase", Decimal("-50.00"))]
    assert payments.balance(customer) == 0
    record = wait_for(lambda: MpesaCallback.objects.filter(payment=payment).first())
    assert record.outcome == MpesaCallback.Outcome.CREDITED and record.source_ip == "127.0.0.1"
    assert json.loads(record.body)["Body"]["stkCallback"]["CheckoutRequestID"] == payment.checkout_request_id
    receipt = wait_for(lambda: Notification.objects.filter(customer=customer).first())
    assert payment.mpesa_receipt in receipt.text and customer.password in receipt.text


@pytest.mark.parametrize("code,status", [(1032, Status.CANCELLED), (1, Status.FAILED), (1037, Status.TIMED_OUT)])
def test_a_prompt_not_paid_gives_nothing(mpesa, daily, code, status):
    mpesa.script(PHONE, result_code=code)
    payment = settled(payments.start_stk(phone=PHONE, package=daily))
    assert payment.status == status and payment.result_code == code
    assert payment.subscription is None and not LedgerEntry.objects.exists()
    assert not RadCheck.objects.filter(username=payment.customer.username).exists()


def test_twenty_duplicate_callbacks_at_once_credit_once(mpesa, daily):
    mpesa.script(PHONE, callbacks=20)
    payment = settled(payments.start_stk(phone=PHONE, package=daily))
    wait_for(lambda: MpesaCallback.objects.exclude(outcome="received").count() == 20)
    outcomes = list(MpesaCallback.objects.values_list("outcome", flat=True))
    assert outcomes.count("credited") == 1 and outcomes.count("duplicate") == 19
    assert credits(payment) == 1
    assert Subscription.objects.filter(customer=payment.customer).count() == 1
    sub = Subscription.objects.get(customer=payment.customer)
    assert sub.expires_at - sub.starts_at == timedelta(days=1)


def test_a_lost_callback_is_settled_by_the_verify_job(mpesa, daily):
    mpesa.script(PHONE, callbacks=0, answer_after=0.1)
    payment = payments.start_stk(phone=PHONE, package=daily)
    time.sleep(0.2)  # the customer types the PIN
    later = timezone.now() + timedelta(seconds=31)
    run = verification.verify_due(now=later)
    assert run.completed == [payment.pk]
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED and payment.subscription is not None and credits(payment) == 1
    # Asked once per 15 s at most: a second run at the same moment asks nothing.
    assert verification.verify_due(now=later).asked == 0


def test_a_callback_after_the_query_settled_it_is_not_credited_again(mpesa, daily):
    mpesa.script(PHONE, answer_after=0.1, callback_after=1.0)
    payment = payments.start_stk(phone=PHONE, package=daily)
    time.sleep(0.2)
    assert verification.verify_due(now=timezone.now() + timedelta(seconds=31)).completed == [payment.pk]
    record = wait_for(lambda: MpesaCallback.objects.filter(payment=payment).exclude(outcome="received").first())
    assert record.outcome == MpesaCallback.Outcome.DUPLICATE
    payment.refresh_from_db()
    assert credits(payment) == 1 and payment.mpesa_receipt  # the late callback brought the receipt


def test_the_window_passes_unanswered_then_a_late_payment_still_counts(mpesa, daily):
    mpesa.script(PHONE, answer_after=3600, callbacks=0)
    payment = payments.start_stk(phone=PHONE, package=daily)
    run = verification.verify_due(now=timezone.now() + timedelta(minutes=4))
    assert run.timed_out == [payment.pk]
    payment.refresh_from_db()
    assert payment.status == Status.TIMED_OUT and payment.result_code is None
    # The customer did pay after all: the (late) callback overturns our guess.
    transaction = mpesa.transactions[payment.checkout_request_id]
    transaction.script.answer_after = 0
    body = mpesa.callback_body(transaction)
    httpx.post(payment.checkout_request_id and payments.callback_url(), json=body)
    payment.refresh_from_db()
    assert payment.status == Status.COMPLETED and credits(payment) == 1


def test_a_wrong_amount_is_recorded_and_not_credited(mpesa, daily):
    mpesa.script(PHONE, amount_paid=1.0)
    payment = payments.start_stk(phone=PHONE, package=daily)
    record = wait_for(lambda: MpesaCallback.objects.filter(payment=payment).first())
    assert record.outcome == MpesaCallback.Outcome.AMOUNT_MISMATCH
    payment.refresh_from_db()
    assert payment.status == Status.PENDING and not LedgerEntry.objects.exists()


def test_unknown_ids_and_bad_tokens_are_stored_not_credited(mpesa, daily, live_server):
    payment = settled(payments.start_stk(phone=PHONE, package=daily))
    body = mpesa.callback_body(mpesa.transactions[payment.checkout_request_id])
    body["Body"]["stkCallback"]["CheckoutRequestID"] = "ws_CO_000000000000000"
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][1]["Value"] = "TZZZZZZZZ1"
    answer = httpx.post(f"{live_server.url}/api/payments/mpesa/callback/{TOKEN}", json=body)
    assert answer.status_code == 200 and answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert MpesaCallback.objects.get(checkout_request_id="ws_CO_000000000000000").outcome == "unknown"
    wrong = httpx.post(f"{live_server.url}/api/payments/mpesa/callback/not-the-token", json=body)
    assert wrong.status_code == 404
    assert MpesaCallback.objects.filter(outcome="bad_token").count() == 1
    assert credits(payment) == 1 and Payment.objects.count() == 1


def test_callbacks_from_outside_the_allowlist_are_kept_not_credited(mpesa, daily, settings):
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.0/24"]
    payment = payments.start_stk(phone=PHONE, package=daily)
    record = wait_for(lambda: MpesaCallback.objects.filter(outcome="forbidden").first())
    assert record.payment is None
    payment.refresh_from_db()
    assert payment.status == Status.PENDING


def test_the_push_refused_marks_the_payment_failed(settings, daily):
    settings.MPESA_BASE_URL = "http://127.0.0.1:9"  # nobody listens
    with pytest.raises(payments.PaymentError) as refused:
        payments.start_stk(phone=PHONE, package=daily)
    assert refused.value.reason == "mpesa_unavailable"
    assert Payment.objects.get().status == Status.FAILED


def test_concurrent_verification_and_callbacks_settle_once(mpesa, daily):
    mpesa.script(PHONE, answer_after=0.05, callback_after=0.3, callbacks=5)
    payment = payments.start_stk(phone=PHONE, package=daily)
    later = timezone.now() + timedelta(seconds=40)
    workers = [threading.Thread(target=closing(verification.verify_due), kwargs={"now": later}) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wait_for(lambda: MpesaCallback.objects.filter(payment=payment).exclude(outcome="received").count() == 5)
    assert credits(payment) == 1 and Subscription.objects.filter(customer=payment.customer).count() == 1
