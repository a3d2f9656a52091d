"""The staff payments API: listing and searching payments, recording cash, one payment with its
callbacks and ledger, asking M-Pesa about it now, and the raw callback log."""
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import payments
from billing.models import Invoice, LedgerEntry, MpesaCallback, Payment
from hotspot import services

from . import payments_kit
from .payments_kit import PHONE, settled, wait_for
from .staff_kit import bearer

pytestmark = pytest.mark.django_db
# The kit's fixtures, visible to pytest here; assigned rather than imported, so the tests'
# parameters of the same names are not redefinitions to the linter.
mpesa, daily = payments_kit.mpesa, payments_kit.daily
JSON = {"content_type": "application/json"}


def make_pending(package, phone: str, checkout: str, created_at=None) -> Payment:
    """A payment as start_stk leaves it once Daraja accepted the push (no simulator needed)."""
    customer = payments.customer_for_phone(phone)
    return Payment.objects.create(customer=customer, phone=customer.phone, package=package, amount=package.price,
                                  method=Payment.Method.MPESA_STK, checkout_request_id=checkout,
                                  created_at=created_at or timezone.now())


def make_cash(phone: str, amount: str, by, package=None) -> Payment:
    customer = payments.customer_for_phone(phone)
    return payments.record_cash(customer=customer, amount=Decimal(amount), by=by, package=package)


def make_invoice(customer, package) -> Invoice:
    now = timezone.now()
    return Invoice.objects.create(number=f"INV-{customer.pk:05d}", customer=customer, package=package,
                                  amount=package.price, period_start=now, period_end=now + timedelta(days=30),
                                  due_at=now)


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


# --- listing ----------------------------------------------------------------------------------------

def test_it_lists_payments_newest_first_with_what_staff_need(client, finance_clerk, daily):
    cash = make_cash("0711 000 001", "50", finance_clerk, package=daily)
    pending = make_pending(daily, "0711 000 002", "ws_CO_PENDING0001")
    page = client.get("/api/payments", **bearer(finance_clerk)).json()
    assert page["count"] == 2 and [p["id"] for p in page["results"]] == [pending.pk, cash.pk]
    item = page["results"][1]
    assert item == {
        "id": cash.pk, "customer_id": cash.customer_id, "customer_username": cash.customer.username,
        "phone": "254711000001", "package_id": daily.pk, "package_name": "Daily 1GB", "amount": "50.00",
        "method": "cash", "status": "completed", "mpesa_receipt": None, "checkout_request_id": None,
        "result_code": 0, "result_desc": "Paid (cash)", "created_at": item["created_at"],
        "completed_at": item["completed_at"], "reversed_at": None, "subscription_id": cash.subscription_id}
    assert item["completed_at"] and cash.subscription_id
    newest = page["results"][0]
    assert newest["status"] == "pending" and newest["checkout_request_id"] == "ws_CO_PENDING0001"


def test_it_filters_searches_and_paginates(client, finance_clerk, daily):
    now = timezone.now()
    old = make_pending(daily, "0722 000 001", "ws_CO_OLD00000001", created_at=now - timedelta(days=3))
    new = make_pending(daily, "0722 000 002", "ws_CO_NEW00000002")
    cash = make_cash("0722 000 003", "100", finance_clerk)
    Payment.objects.filter(pk=new.pk).update(mpesa_receipt="TAB12CD34E")

    def found(query: str) -> list[int]:
        response = client.get(f"/api/payments?{query}", **bearer(finance_clerk))
        assert response.status_code == 200, response.json()
        return ids(response)

    assert found("status=pending") == [new.pk, old.pk]
    assert found("method=cash") == [cash.pk]
    assert found("phone=0722000001") == [old.pk]
    assert found(f"customer_id={cash.customer_id}") == [cash.pk]
    since = (now - timedelta(days=1)).isoformat().replace("+", "%2B")
    assert found(f"since={since}") == [cash.pk, new.pk]
    assert found(f"until={since}") == [old.pk]
    assert found("q=tab12cd34e") == [new.pk]          # receipt, any case
    assert found("q=ws_CO_OLD00000001") == [old.pk]   # CheckoutRequestID
    assert found("q=%2B254722000003") == [cash.pk]    # phone, as a person types it
    assert found("q=2000002") == [new.pk]             # part of a phone number
    assert found("limit=2") == [cash.pk, new.pk] and found("limit=2&offset=2") == [old.pk]
    assert client.get("/api/payments?limit=2", **bearer(finance_clerk)).json()["count"] == 3


@pytest.mark.parametrize("query,detail", [
    ("limit=0", "limit must be 1..200 and offset at least 0"),
    ("limit=201", "limit must be 1..200 and offset at least 0"),
    ("offset=-1", "limit must be 1..200 and offset at least 0"),
    ("phone=12345", "'12345' is not a Kenyan mobile number"),
])
def test_bad_list_parameters_are_422(client, finance_clerk, query, detail):
    response = client.get(f"/api/payments?{query}", **bearer(finance_clerk))
    assert response.status_code == 422 and response.json()["detail"].startswith(detail)


def test_unknown_filter_values_are_422(client, finance_clerk):
    for query in ("status=paid", "method=cheque", "since=yesterday"):
        response = client.get(f"/api/payments?{query}", **bearer(finance_clerk))
        assert response.status_code == 422 and response.json()["detail"] == "Invalid request", query


def test_the_list_costs_the_same_queries_for_one_payment_or_twenty(client, finance_clerk, daily):
    auth = bearer(finance_clerk)
    make_cash("0733 000 000", "50", finance_clerk, package=daily)
    client.get("/api/payments", **auth)  # the token's first use is noted once (last_used_at)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/payments", **auth).status_code == 200
        return len(captured)

    one = queries()
    for n in range(1, 20):
        make_cash(f"0733 000 {n:03d}", "50", finance_clerk, package=daily)
    assert client.get("/api/payments", **auth).json()["count"] == 20
    assert queries() == one
    # token with its user, the user's two permission sets, the count, the page (customer, package joined)
    assert one == 5


# --- recording cash ----------------------------------------------------------------------------------

def test_finance_records_cash_that_buys_a_package(client, finance_clerk, daily):
    customer = services.create_customer("0744 000 001")
    response = client.post("/api/payments", {"customer_id": customer.pk, "amount": "50", "package_id": daily.pk,
                                             "note": "Paid at the shop"}, **JSON, **bearer(finance_clerk))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["method"] == "cash" and body["status"] == "completed" and body["amount"] == "50.00"
    assert body["package_name"] == "Daily 1GB" and body["subscription_id"]
    payment = Payment.objects.get(pk=body["id"])
    assert payment.recorded_by == finance_clerk and payment.note == "Paid at the shop"
    assert payments.balance(customer) == 0


def test_cash_without_a_package_goes_to_the_wallet(client, admin):
    customer = services.create_customer("0744 000 002")
    response = client.post("/api/payments", {"customer_id": customer.pk, "amount": 120.5}, **JSON, **bearer(admin))
    assert response.status_code == 201 and response.json()["package_id"] is None
    assert payments.balance(customer) == Decimal("120.50")


def test_cash_settles_an_invoice_of_the_customer(client, finance_clerk, daily):
    customer = services.create_customer("0744 000 003")
    invoice = make_invoice(customer, daily)
    response = client.post("/api/payments", {"customer_id": customer.pk, "amount": "50", "invoice_id": invoice.pk},
                           **JSON, **bearer(finance_clerk))
    assert response.status_code == 201
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_unknown_customer_package_or_invoice_is_404(client, finance_clerk, daily):
    customer = services.create_customer("0744 000 004")
    someone_elses = make_invoice(services.create_customer("0744 000 005"), daily)
    cases = [
        ({"customer_id": 999999, "amount": "50"}, "No customer with id 999999"),
        ({"customer_id": customer.pk, "amount": "50", "package_id": 999999}, "No package with id 999999"),
        ({"customer_id": customer.pk, "amount": "50", "invoice_id": someone_elses.pk},
         f"No invoice with id {someone_elses.pk} for this customer"),
    ]
    for data, detail in cases:
        response = client.post("/api/payments", data, **JSON, **bearer(finance_clerk))
        assert response.status_code == 404 and response.json() == {"detail": detail}
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.234", None])
def test_a_bad_amount_is_422(client, finance_clerk, amount):
    customer = services.create_customer("0744 000 006")
    response = client.post("/api/payments", {"customer_id": customer.pk, "amount": amount}, **JSON,
                           **bearer(finance_clerk))
    assert response.status_code == 422
    assert response.json()["detail"] == "Invalid request" and response.json()["errors"][0]["loc"][-1] == "amount"
    assert not Payment.objects.exists()


def test_what_the_service_refuses_is_409_with_its_words(client, finance_clerk, daily):
    customer = services.create_customer("0744 000 007")
    short = client.post("/api/payments", {"customer_id": customer.pk, "amount": "30", "package_id": daily.pk},
                        **JSON, **bearer(finance_clerk))
    assert short.status_code == 409 and short.json() == {"detail": "Daily 1GB costs KES 50.00."}
    invoice = make_invoice(customer, daily)
    wrong = client.post("/api/payments", {"customer_id": customer.pk, "amount": "40", "invoice_id": invoice.pk},
                        **JSON, **bearer(finance_clerk))
    assert wrong.status_code == 409
    assert wrong.json() == {"detail": f"Invoice {invoice.number} is issued, for KES 50.00."}
    assert not Payment.objects.exists()


def test_support_can_neither_read_nor_record_nor_verify(client, support_agent, finance_clerk, daily):
    """Payments are Finance's; Support sees a customer's own payments on the customer's page."""
    customer = services.create_customer("0744 000 008")
    payment = make_pending(daily, "0744 000 009", "ws_CO_SUPPORT0001")
    auth = bearer(support_agent)
    assert client.get("/api/payments", **auth).status_code == 403
    assert client.get(f"/api/payments/{payment.pk}", **auth).status_code == 403
    refused = client.post("/api/payments", {"customer_id": customer.pk, "amount": "50"}, **JSON, **auth)
    assert refused.status_code == 403 and "billing.add_payment" in refused.json()["detail"]
    assert client.post(f"/api/payments/{payment.pk}/verify", **auth).status_code == 403
    assert client.get("/api/logs/payments", **auth).status_code == 403
    assert Payment.objects.count() == 1


# --- one payment ----------------------------------------------------------------------------------

def test_one_payment_shows_its_ledger(client, finance_clerk, daily):
    payment = make_cash("0755 000 001", "50", finance_clerk, package=daily)
    body = client.get(f"/api/payments/{payment.pk}", **bearer(finance_clerk)).json()
    assert body["id"] == payment.pk and body["callbacks"] == [] and body["note"] == ""
    assert [(e["kind"], e["amount"]) for e in body["ledger"]] == [("payment", "50.00"), ("purchase", "-50.00")]
    assert body["ledger"][1]["description"] == "Daily 1GB"


def test_an_unknown_payment_is_404(client, finance_clerk):
    auth = bearer(finance_clerk)
    assert client.get("/api/payments/999999", **auth).json() == {"detail": "No payment with id 999999"}
    response = client.post("/api/payments/999999/verify", **auth)
    assert response.status_code == 404 and response.json() == {"detail": "No payment with id 999999"}


# --- against the Daraja simulator and a live server ---------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_paid_prompt_shows_its_callback_and_the_log_holds_the_body(client, finance_clerk, mpesa, daily,
                                                                       live_server):
    payment = settled(payments.start_stk(phone=PHONE, package=daily))
    wait_for(lambda: MpesaCallback.objects.filter(payment=payment).exclude(outcome="received").exists())
    httpx.post(f"{live_server.url}/api/payments/mpesa/callback/wrong-token", json={"probe": 1})
    auth = bearer(finance_clerk)
    body = client.get(f"/api/payments/{payment.pk}", **auth).json()
    assert body["status"] == "completed" and body["mpesa_receipt"] == payment.mpesa_receipt
    [callback] = body["callbacks"]
    assert callback["kind"] == "stk" and callback["outcome"] == "credited" and callback["source_ip"] == "127.0.0.1"
    assert [e["kind"] for e in body["ledger"]] == ["payment", "purchase"]

    log = client.get("/api/logs/payments", **auth).json()
    assert log["count"] == 2 and [c["outcome"] for c in log["results"]] == ["bad_token", "credited"]
    credited = log["results"][1]
    assert credited["payment_id"] == payment.pk and credited["checkout_request_id"] == payment.checkout_request_id
    assert payment.checkout_request_id in credited["body"] and payment.mpesa_receipt in credited["body"]

    def logged(query: str) -> list[str]:
        return [c["outcome"] for c in client.get(f"/api/logs/payments?{query}", **auth).json()["results"]]

    assert logged("outcome=credited") == ["credited"]
    assert logged(f"checkout_request_id={payment.checkout_request_id}") == ["credited"]
    assert logged("kind=c2b_confirmation") == []
    future = (timezone.now() + timedelta(minutes=1)).isoformat().replace("+", "%2B")
    assert logged(f"since={future}") == []
    assert client.get("/api/logs/payments?limit=500", **auth).status_code == 422


@pytest.mark.django_db(transaction=True)
def test_verify_settles_a_payment_whose_callback_was_lost(client, finance_clerk, mpesa, daily):
    auth = bearer(finance_clerk)
    # Half a second to ask before the customer answers: room for a loaded machine, not a race.
    mpesa.script(PHONE, callbacks=0, answer_after=0.5)
    payment = payments.start_stk(phone=PHONE, package=daily)
    waiting = client.post(f"/api/payments/{payment.pk}/verify", **auth).json()
    assert waiting["result"] == "still waiting for the customer" and waiting["payment"]["status"] == "pending"
    time.sleep(0.6)  # the customer types the PIN
    # Asked less than 15 s ago: not asked again, even by staff.
    assert client.post(f"/api/payments/{payment.pk}/verify", **auth).json()["result"].startswith("not due")
    Payment.objects.filter(pk=payment.pk).update(last_queried_at=timezone.now() - timedelta(seconds=16))
    answer = client.post(f"/api/payments/{payment.pk}/verify", **auth)
    assert answer.status_code == 200
    assert answer.json()["result"] == "completed (credited)"
    assert answer.json()["payment"]["status"] == "completed" and answer.json()["payment"]["subscription_id"]
    assert LedgerEntry.objects.filter(payment=payment, kind=LedgerEntry.Kind.PAYMENT).count() == 1
    assert not MpesaCallback.objects.exists()
