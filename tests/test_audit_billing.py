"""The billing app's audit trail: every change to a payment, a wallet or an invoice leaves exactly one
entry, naming who did it as it happens for real: M-Pesa through its callbacks (with the address that
posted), the verification job, staff through a page and through the API, a customer in the portal."""
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from audit.models import Entry
from billing import callback_sweeps, callbacks, invoices, payments, tasks
from billing.models import Invoice, MpesaCallback, Payment
from hotspot import services, subscriptions
from hotspot.models import Package, ServiceType

from . import payments_kit
from .payments_kit import PHONE, TOKEN, settled
from .staff_kit import bearer

pytestmark = pytest.mark.django_db
mpesa, daily = payments_kit.mpesa, payments_kit.daily
SAFARICOM = "196.201.214.200"
CALLBACK = f"/api/payments/mpesa/callback/{TOKEN}"


@pytest.fixture(autouse=True)
def token(settings):
    settings.MPESA_CALLBACK_TOKEN = TOKEN


@pytest.fixture
def monthly(db):
    return services.save_package(Package(name="Home 10M", price=2500, validity_minutes=43200,
                                         service_type=ServiceType.PPPOE, rate_limit="10M/10M"))


def entries(obj, action=None) -> list[Entry]:
    found = Entry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return list(found.filter(action=action) if action else found)


def the_entry(obj, action) -> Entry:
    """The one entry ``action`` left on ``obj`` (failing when there is none or more than one)."""
    found = entries(obj, action)
    assert len(found) == 1, f"{len(found)} {action!r} entries on {obj!r}: {found}"
    return found[0]


def pending(package, checkout="ws_CO_0000000000000001", phone=PHONE) -> Payment:
    """A payment as start_stk leaves it once Daraja accepted the push."""
    customer = payments.customer_for_phone(phone)
    return Payment.objects.create(customer=customer, phone=phone, package=package, amount=package.price,
                                  method=Payment.Method.MPESA_STK, checkout_request_id=checkout)


def stk_body(payment, code=0, receipt="QK12345678") -> dict:
    callback = {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": payment.checkout_request_id,
                "ResultCode": code, "ResultDesc": "ok" if code == 0 else "Request cancelled by user"}
    if code == 0:
        callback["CallbackMetadata"] = {"Item": [
            {"Name": "Amount", "Value": float(payment.amount)}, {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "PhoneNumber", "Value": int(PHONE)}]}
    return {"Body": {"stkCallback": callback}}


def post(client, body, path=CALLBACK, ip=SAFARICOM):
    return client.generic("POST", path, json.dumps(body).encode(), content_type="application/json", REMOTE_ADDR=ip)


def confirmation(account, amount="120.00", trans_id="TC12345678"):
    return {"TransactionType": "Pay Bill", "TransID": trans_id, "TransTime": "20261123101010",
            "TransAmount": amount, "BusinessShortCode": "174379", "BillRefNumber": account, "MSISDN": PHONE}


def open_invoice(customer, package, number="INV000042") -> Invoice:
    start = timezone.now() + timedelta(days=3)
    return Invoice.objects.create(number=number, customer=customer, package=package, amount=package.price,
                                  period_start=start, period_end=start + timedelta(days=30), due_at=start)


# --- M-Pesa -------------------------------------------------------------------------------------

def test_an_stk_callback_credits_once_as_mpesa_from_its_address(client, daily):
    payment = pending(daily)
    for _ in range(3):  # the callback and two duplicates
        assert post(client, stk_body(payment)).status_code == 200
    credited = the_entry(payment, "credited")
    assert (credited.actor_kind, credited.actor_name, credited.ip) == ("mpesa", "M-Pesa", SAFARICOM)
    assert credited.changes["status"] == ["pending", "completed"]
    assert credited.changes["mpesa_receipt"] == [None, "QK12345678"]
    assert len(entries(payment)) == 1
    # Paid in and spent on the package at once: the wallet's balance did not move.
    assert not entries(payment.customer, "wallet_credited") and not entries(payment.customer, "wallet_debited")


def test_a_cancelled_prompt_leaves_one_entry_however_often_it_is_told(client, daily):
    payment = pending(daily)
    post(client, stk_body(payment, code=1032))
    post(client, stk_body(payment, code=1032))
    cancelled = the_entry(payment, "cancelled")
    assert cancelled.actor_kind == "mpesa" and cancelled.changes["status"] == ["pending", "cancelled"]
    assert len(entries(payment)) == 1


def test_paybill_to_a_phone_number_credits_the_wallet_as_mpesa(client, db):
    body = confirmation("0712 345 678")
    post(client, body, f"/api/payments/c2b/confirmation/{TOKEN}")
    post(client, body, f"/api/payments/c2b/confirmation/{TOKEN}")  # the same receipt again
    payment = Payment.objects.get()
    credited = the_entry(payment, "credited")
    assert (credited.actor_kind, credited.ip) == ("mpesa", SAFARICOM) and credited.note == "via c2b"
    wallet = the_entry(payment.customer, "wallet_credited")
    assert wallet.actor_kind == "mpesa" and wallet.changes == {"wallet": ["0.00", "120.00"]}


def test_paybill_to_an_invoice_number_marks_it_paid_as_mpesa(client, monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    invoice = open_invoice(customer, monthly)
    post(client, confirmation("inv000042", "2500.00"), f"/api/payments/c2b/confirmation/{TOKEN}")
    paid = the_entry(invoice, "paid")
    assert paid.actor_kind == "mpesa" and paid.changes == {"status": ["issued", "paid"]}


def test_a_body_the_sweep_processes_is_still_mpesas_from_its_address(daily):
    payment = pending(daily)
    stored = callbacks.store(MpesaCallback.Kind.STK, json.dumps(stk_body(payment)).encode(), SAFARICOM,
                             retry_at=timezone.now() - timedelta(seconds=1))  # as a request that died left it
    assert callback_sweeps.reprocess_due().settled == 1
    credited = the_entry(payment, "credited")
    assert (credited.actor_kind, credited.ip) == ("mpesa", SAFARICOM)
    assert MpesaCallback.objects.get(pk=stored.pk).outcome == "credited"


def test_a_late_callback_after_the_query_brings_the_receipt_not_a_second_credit(client, daily):
    payment = pending(daily)
    payments.complete(payment.pk, via="query")  # the query carries no receipt
    post(client, stk_body(payment, receipt="QK87654321"))
    post(client, stk_body(payment, receipt="QK87654321"))
    assert the_entry(payment, "credited").note == "via query"
    changed = the_entry(payment, "changed")
    assert changed.actor_kind == "mpesa" and changed.changes == {"mpesa_receipt": [None, "QK87654321"]}


def test_the_verification_job_times_out_a_prompt_nobody_answered(daily):
    payment = pending(daily)
    Payment.objects.filter(pk=payment.pk).update(checkout_request_id=None,  # Daraja never acknowledged it
                                                 created_at=timezone.now() - timedelta(minutes=10),
                                                 window_ends_at=timezone.now() - timedelta(minutes=8))
    assert tasks.verify_mpesa_transactions.apply().get()["timed_out"] == 1
    timed_out = the_entry(payment, "timed_out")
    assert timed_out.actor_kind == "job" and timed_out.changes["status"] == ["pending", "timed_out"]
    assert len(entries(payment)) == 1


def test_a_callback_from_outside_the_allowlist_changes_nothing_and_writes_nothing(client, daily, settings):
    settings.MPESA_CALLBACK_ALLOWED_IPS = ["196.201.214.0/24"]
    payment = pending(daily)
    post(client, stk_body(payment), ip="203.0.113.9")
    assert not entries(payment)


@pytest.mark.django_db(transaction=True)
def test_the_verification_job_credits_a_lost_callback_as_the_job(mpesa, daily, settings):
    settings.MPESA_QUERY_AFTER_SECONDS = 1
    mpesa.script(PHONE, callbacks=0, answer_after=0.1)
    payment = payments.start_stk(phone=PHONE, package=daily)
    time.sleep(1.2)  # the customer types the PIN; the callback never comes
    assert tasks.verify_mpesa_transactions.apply().get()["completed"] == 1
    credited = the_entry(payment, "credited")
    assert (credited.actor_kind, credited.actor_name) == ("job", "billing.tasks.verify_mpesa_transactions")
    assert credited.note == "via query" and credited.changes["status"] == ["pending", "completed"]
    assert the_entry(payment, "created").actor_kind == "system"  # started outside any request


@pytest.mark.django_db(transaction=True)
def test_a_full_purchase_never_writes_an_mpesa_key_into_the_trail(mpesa, daily, settings):
    settings.MPESA_PASSKEY = "passkey-never-to-be-seen"
    payment = settled(payments.start_stk(phone=PHONE, package=daily))
    the_entry(payment, "credited")
    trail_text = json.dumps([[e.changes, e.note, e.object_label] for e in Entry.objects.all()])
    for secret in (settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET, settings.MPESA_PASSKEY):
        assert secret not in trail_text


# --- staff --------------------------------------------------------------------------------------

def test_cash_through_the_page_is_credited_by_the_staff_member(signed_in, finance_clerk, daily):
    customer = services.create_customer(PHONE)
    response = signed_in("finance").post("/payments/cash/", {"customer": "0712 345 678", "amount": "80",
                                                             "package": daily.pk, "note": "at the shop"})
    assert response.status_code == 302
    cash = Payment.objects.get(method=Payment.Method.CASH)
    credited = the_entry(cash, "credited")
    assert (credited.actor_kind, credited.actor_name, credited.ip) == ("staff", "faith", "127.0.0.1")
    assert credited.note == "via cash"
    # 80 in; the package (50) bought with it from the wallet: one entry each, all by the clerk.
    bought = Payment.objects.get(method=Payment.Method.WALLET)
    assert the_entry(bought, "credited").actor_name == "faith"
    assert the_entry(customer, "wallet_credited").changes == {"wallet": ["0.00", "80.00"]}
    debited = the_entry(customer, "wallet_debited")
    assert debited.changes == {"wallet": ["80.00", "30.00"]} and debited.actor_kind == "staff"


def test_cash_through_the_api_is_credited_by_the_token_holder(client, finance_clerk, daily):
    customer = services.create_customer(PHONE)
    response = client.post("/api/payments", {"customer_id": customer.pk, "amount": "50", "package_id": daily.pk},
                           content_type="application/json", **bearer(finance_clerk))
    assert response.status_code == 201, response.content
    credited = the_entry(Payment.objects.get(pk=response.json()["id"]), "credited")
    assert (credited.actor_kind, credited.actor_name, credited.actor_id) == ("staff", "faith", str(finance_clerk.pk))
    assert credited.ip == "127.0.0.1"


def test_a_reversal_by_staff_keeps_the_reason_as_its_note(signed_in, finance_clerk):
    customer = services.create_customer(PHONE)
    cash = payments.record_cash(customer=customer, amount=Decimal("100"), by=finance_clerk)
    response = signed_in("finance").post(f"/payments/{cash.pk}/reverse/", {"reason": "counted twice"})
    assert response.status_code == 302
    reversed_ = the_entry(cash, "reversed")
    assert (reversed_.actor_kind, reversed_.actor_name, reversed_.note) == ("staff", "faith", "counted twice")
    assert reversed_.changes["reversed_at"][0] is None and reversed_.changes["reversed_at"][1]
    assert the_entry(customer, "wallet_debited").changes == {"wallet": ["100.00", "0.00"]}


def test_a_wallet_purchase_by_staff_is_credited_and_debits_the_wallet(signed_in, finance_clerk, daily):
    customer = services.create_customer(PHONE)
    payments.record_cash(customer=customer, amount=Decimal("60"), by=finance_clerk)
    response = signed_in("finance").post(f"/wallet/{customer.pk}/buy/", {"package": daily.pk})
    assert response.status_code == 302
    bought = Payment.objects.get(method=Payment.Method.WALLET)
    assert the_entry(bought, "credited").note == "from the wallet"
    debited = the_entry(customer, "wallet_debited")
    assert debited.changes == {"wallet": ["60.00", "10.00"]} and debited.actor_name == "faith"


def test_the_payment_page_shows_its_history(signed_in, finance_clerk):
    customer = services.create_customer(PHONE)
    cash = payments.record_cash(customer=customer, amount=Decimal("100"), by=finance_clerk)
    payments.reverse(cash, by=finance_clerk, reason="counted twice")
    html = signed_in("finance").get(f"/payments/{cash.pk}/").content.decode()
    assert "History" in html and "credited" in html and "reversed" in html and "faith" in html


# --- invoices -----------------------------------------------------------------------------------

def test_the_invoice_job_issues_as_the_job_and_staff_cancel_as_themselves(signed_in, monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    subscriptions.activate(customer, monthly, "staff", now=timezone.now() - timedelta(days=25))
    assert tasks.issue_invoices.apply().get() == {"issued": 1}
    invoice = Invoice.objects.get()
    issued = the_entry(invoice, "issued")
    assert (issued.actor_kind, issued.actor_name) == ("job", "billing.tasks.issue_invoices")
    assert issued.object_label == invoice.number
    signed_in("finance").post(f"/invoices/{invoice.pk}/cancel/")
    cancelled = the_entry(invoice, "cancelled")
    assert (cancelled.actor_kind, cancelled.actor_name) == ("staff", "faith")
    assert cancelled.changes == {"status": ["issued", "cancelled"]}


def test_invoices_issued_from_the_page_name_the_staff_member(signed_in, monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    subscriptions.activate(customer, monthly, "staff", now=timezone.now() - timedelta(days=25))
    signed_in("admin").post("/invoices/issue/")
    assert the_entry(Invoice.objects.get(), "issued").actor_name == "amani"
    assert invoices.issue_due() == [] and len(Entry.objects.filter(action="issued")) == 1


@pytest.mark.django_db(transaction=True)
def test_staff_requesting_payment_of_an_invoice_is_one_entry_on_it(signed_in, mpesa, monthly):
    customer = services.create_customer(PHONE, service_type=ServiceType.PPPOE)
    invoice = open_invoice(customer, monthly)
    mpesa.script(PHONE, callbacks=0)
    signed_in("finance").post(f"/invoices/{invoice.pk}/request-payment/")
    requested = the_entry(invoice, "payment_requested")
    assert (requested.actor_kind, requested.actor_name) == ("staff", "faith")
    created = the_entry(Payment.objects.get(), "created")
    assert created.actor_name == "faith" and created.changes["invoice"] == [None, "INV000042"]


# --- the portal ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_known_customer_starting_a_purchase_in_the_portal_is_its_actor(client, mpesa, daily):
    customer = services.create_customer(PHONE)
    mpesa.script(PHONE, callbacks=0)
    response = client.post("/portal/buy/", {"package": daily.pk, "phone": "0712 345 678", "mac": "AA:BB:CC:00:11:22",
                                            "ip": "10.5.50.77"}, REMOTE_ADDR="10.5.50.77")
    assert response.status_code == 303
    created = the_entry(Payment.objects.get(), "created")
    assert (created.actor_kind, created.actor_id, created.ip) == ("customer", str(customer.pk), "10.5.50.77")
    assert created.changes["amount"] == [None, "50.00"] and created.changes["method"] == [None, "mpesa_stk"]


def test_a_customer_spending_their_wallet_through_the_api_is_its_actor(client, finance_clerk, daily):
    customer = services.create_customer(PHONE)
    payments.record_cash(customer=customer, amount=Decimal("60"), by=finance_clerk)
    response = client.post("/api/purchase/package", {"package_id": daily.pk, "phone": PHONE,
                                                     "password": customer.password}, content_type="application/json")
    assert response.status_code == 200, response.content
    bought = Payment.objects.get(method=Payment.Method.WALLET)
    credited = the_entry(bought, "credited")
    assert (credited.actor_kind, credited.actor_id, credited.ip) == ("customer", str(customer.pk), "127.0.0.1")
    assert the_entry(customer, "wallet_debited").actor_kind == "customer"
