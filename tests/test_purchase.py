"""Buying from the captive portal: the purchase API and the portal's pages, against the Daraja
simulator, with the credentials checked by real FreeRADIUS."""
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from billing import payments
from billing.models import LedgerEntry, Payment
from hotspot import services
from hotspot.models import Customer

from .payments_kit import PHONE, settled, wait_for
from .radius_server import accepted

pytestmark = pytest.mark.django_db(transaction=True)
ROUTER = {"mac": "AA:BB:CC:00:11:22", "ip": "10.5.50.77", "link-login-only": "http://10.5.50.1/login",
          "link-orig": "http://example.com/"}


def initiate(client, package, phone="0712345678", **extra):
    return client.post("/api/purchase/mpesa/initiate", {"package_id": package.pk, "phone": phone, **extra},
                       content_type="application/json")


def test_the_api_buys_a_package_and_radius_accepts_the_credentials(client, mpesa, daily, radius_server):
    started = initiate(client, daily, mac="aa:bb:cc:00:11:22", ip="10.5.50.77")
    assert started.status_code == 200, started.content
    body = started.json()
    assert body["status"] == "pending" and body["checkout_request_id"].startswith("ws_CO_")
    url = f"/api/purchase/mpesa/status?checkout_request_id={body['checkout_request_id']}"
    done = wait_for(lambda: (s := client.get(url, headers={"X-Status-Token": body["status_token"]}).json())[
        "status"] == "completed" and s)
    assert done["username"] and done["password"] and done["expires_at"]
    assert accepted(radius_server.authenticate(done["username"], done["password"]))
    assert Customer.objects.get(username=done["username"]).last_mac == "AA-BB-CC-00-11-22"


def test_bad_input_gets_clear_errors(client, mpesa, daily):
    bad_phone = initiate(client, daily, phone="12345")
    assert bad_phone.status_code == 422 and bad_phone.json()["reason"] == "bad_phone"
    no_package = client.post("/api/purchase/mpesa/initiate", {"package_id": 99999, "phone": PHONE},
                             content_type="application/json")
    assert no_package.status_code == 404 and no_package.json()["reason"] == "no_package"
    missing = client.post("/api/purchase/mpesa/initiate", {"phone": PHONE}, content_type="application/json")
    assert missing.status_code == 422
    unknown = client.get("/api/purchase/mpesa/status?checkout_request_id=ws_CO_nope")
    assert unknown.status_code == 404 and unknown.json()["reason"] == "no_payment"
    assert not Payment.objects.exists()


def test_prompts_are_limited_per_phone_and_slowed_per_ip(client, mpesa, daily, settings):
    settings.PURCHASE_LIMIT_PER_PHONE, settings.PURCHASE_LIMIT_PER_IP, settings.PURCHASE_IP_SLOWDOWN_SECONDS = 3, 5, 1
    assert [initiate(client, daily).status_code for _ in range(4)] == [200, 200, 200, 429]
    # The address (a whole hotspot behind its NAT) is slowed past its budget of 5, never locked out:
    # one more prompt per interval, the rest told how long to wait.
    others = [initiate(client, daily, phone=f"07100000{n:02d}") for n in range(4)]
    assert [answer.status_code for answer in others] == [200, 200, 200, 429]
    assert others[-1]["Retry-After"] == "1"
    time.sleep(1.1)
    assert initiate(client, daily, phone="0710000099").status_code == 200
    assert Payment.objects.count() == 7


def test_status_asks_mpesa_when_the_callback_is_late(client, mpesa, daily):
    mpesa.script(PHONE, callbacks=0, answer_after=0.05)
    checkout = initiate(client, daily).json()["checkout_request_id"]
    time.sleep(0.1)
    url = f"/api/purchase/mpesa/status?checkout_request_id={checkout}"
    assert client.get(url).json()["status"] == "pending"  # too early to ask
    Payment.objects.filter(checkout_request_id=checkout).update(created_at=timezone.now() - timedelta(seconds=40))
    assert client.get(url).json()["status"] == "completed"


def test_renew_and_wallet_purchase(client, mpesa, daily):
    assert client.post("/api/purchase/renew", {"phone": PHONE}, content_type="application/json").status_code == 404
    first = settled(Payment.objects.get(pk=initiate(client, daily).json()["payment_id"]))
    renewed = client.post("/api/purchase/renew", {"phone": "+254 712 345 678"}, content_type="application/json")
    assert renewed.status_code == 200
    second = settled(Payment.objects.get(pk=renewed.json()["payment_id"]))
    assert second.package == daily and second.subscription == first.subscription  # extended
    customer = first.customer
    wrong = client.post("/api/purchase/package", {"package_id": daily.pk, "phone": PHONE, "password": "nope"},
                        content_type="application/json")
    assert wrong.status_code == 401
    poor = client.post("/api/purchase/package", {"package_id": daily.pk, "phone": PHONE,
                                                 "password": customer.password}, content_type="application/json")
    assert poor.status_code == 409 and poor.json()["reason"] == "insufficient_balance"
    LedgerEntry.objects.create(customer=customer, amount=60, kind="adjustment", description="test top-up")
    bought = client.post("/api/purchase/package", {"package_id": daily.pk, "phone": PHONE,
                                                   "password": customer.password}, content_type="application/json")
    assert bought.status_code == 200 and bought.json()["status"] == "completed"
    assert payments.balance(customer) == 10


def _follow(client, response):
    assert response.status_code == 303, response.content[:500]
    parts = urlsplit(response["Location"])
    return client.get(f"{parts.path}?{parts.query}")


def test_the_portal_pages_buy_wait_and_connect(client, mpesa, daily):
    mpesa.script(PHONE, answer_after=0.5)
    page = client.get("/portal/", ROUTER)
    assert b"Pay with M-Pesa" in page.content and daily.name.encode() in page.content
    waiting = _follow(client, client.post("/portal/buy/", {"package": daily.pk, "phone": "0712 345 678", **ROUTER}))
    html = waiting.content.decode()
    assert "Check your phone" in html and "0712 345 678" in html and 'http-equiv="refresh"' in html
    payment = settled(Payment.objects.get())
    again = client.get(waiting.wsgi_request.get_full_path()).content.decode()
    assert 'action="http://10.5.50.1/login"' in again
    assert payment.customer.username in again and payment.customer.password in again


def test_a_refused_purchase_explains_itself_on_the_page(client, mpesa, daily):
    mpesa.script(PHONE, result_code=1032)
    waiting = _follow(client, client.post("/portal/buy/?lang=sw", {"package": daily.pk, "phone": PHONE, **ROUTER}))
    settled(Payment.objects.get())
    cancelled = client.get(waiting.wsgi_request.get_full_path()).content.decode()
    assert "Malipo yalisitishwa" in cancelled
    bad = client.post("/portal/buy/", {"package": daily.pk, "phone": "hello", **ROUTER})
    assert bad.status_code == 422 and b"0712 345 678" in bad.content


def test_already_paid_finds_the_payment_this_browser_started_or_with_the_mpesa_code(client, mpesa, daily):
    client.post("/portal/buy/", {"package": daily.pk, "phone": "0712345678", **ROUTER})
    cookie = client.cookies["portal_paid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/portal/"
    payment = settled(Payment.objects.get())
    same_browser = _follow(client, client.post("/portal/recover/", {"phone": "0712345678", **ROUTER}))
    assert payment.customer.password in same_browser.content.decode()
    client.cookies.clear()  # a captive mini-browser that dropped the cookie
    asked = client.post("/portal/recover/", {"phone": "0712345678", **ROUTER}).content.decode()
    assert "M-Pesa code from your SMS" in asked and payment.customer.password not in asked
    wrong = client.post("/portal/recover/", {"phone": "0712345678", "code": "TAAAAAAAA1", **ROUTER}).content.decode()
    assert "does not match" in wrong
    with_code = _follow(client, client.post("/portal/recover/", {"phone": "0712345678",
                                                                 "code": payment.mpesa_receipt.lower(), **ROUTER}))
    assert payment.customer.password in with_code.content.decode()


def test_a_neighbour_with_the_phone_number_and_the_mac_gets_no_password(client, mpesa, daily):
    """The MAC travels in the clear on the shared WiFi: knowing it and the phone number is no proof."""
    payment = settled(payments.start_stk(phone=PHONE, package=daily, mac=ROUTER["mac"]))
    asked = client.post("/portal/recover/", {"phone": "0712345678", **ROUTER})
    assert asked.status_code == 200 and payment.customer.password not in asked.content.decode()
    assert "M-Pesa code from your SMS" in asked.content.decode()
    client.cookies["portal_paid"] = str(payment.pk)  # typed, not signed by us
    forged = client.post("/portal/recover/", {"phone": "0712345678", **ROUTER})
    assert forged.status_code == 200 and payment.customer.password not in forged.content.decode()


def test_the_status_api_gives_credentials_only_to_the_client_that_started_the_purchase(client, mpesa, daily):
    mine = initiate(client, daily).json()
    theirs = initiate(client, daily, phone="0722000111").json()
    url = f"/api/purchase/mpesa/status?checkout_request_id={mine['checkout_request_id']}"
    wait_for(lambda: client.get(url).json()["status"] == "completed")
    customer = Payment.objects.get(pk=mine["payment_id"]).customer
    anyone = client.get(url).json()  # a CheckoutRequestID is no secret: it was in a log, a screenshot
    assert anyone["status"] == "completed" and "password" not in anyone and "username" not in anyone
    other_token = client.get(url, headers={"X-Status-Token": theirs["status_token"]}).json()
    assert "password" not in other_token
    assert "password" not in client.get(f"{url}&status_token=forged").json()
    by_header = client.get(url, headers={"X-Status-Token": mine["status_token"]}).json()
    by_query = client.get(f"{url}&status_token={mine['status_token']}").json()
    assert by_header["password"] == by_query["password"] == customer.password
    assert by_header["username"] == customer.username


def test_the_waiting_page_token_is_signed(client, db):
    assert client.get("/portal/pay/forged-token/").status_code == 404
    services.create_customer(PHONE)
    assert re.search(rb"No recent payment", client.get("/portal/pay/1/?lang=en").content)
