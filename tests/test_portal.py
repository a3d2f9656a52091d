"""The captive portal's login side: light pages without JavaScript, vouchers and accounts, status,
English and Kiswahili, and the RFC 8908 document."""
import gzip
import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from hotspot import services, subscriptions, vouchers
from hotspot.models import Package
from radius.models import RadAcct

pytestmark = pytest.mark.django_db
ROUTER = {"mac": "AA:BB:CC:DD:EE:10", "ip": "10.5.50.23", "link-login-only": "http://10.5.50.1/login",
          "link-orig": "http://example.com/"}


def daily(limit_mb=None):
    return services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M",
                                         data_limit_mb=limit_mb))


def test_the_first_page_is_small_self_contained_and_needs_no_javascript(client):
    daily()
    response = client.get("/portal/", ROUTER, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert len(response.content) <= 14 * 1024
    html = gzip.decompress(response.content).decode()
    assert "<script" not in html and not re.search(r'(src|href)="https?://', html)
    assert "Daily" in html and "KES 50" in html
    assert 'name="link_login_only" value="http://10.5.50.1/login"' in html


def test_credentials_are_never_posted_to_a_public_host(client):
    html = client.get("/portal/", {**ROUTER, "link-login-only": "https://evil.example/login"}).content.decode()
    assert "evil.example" not in html


def test_kiswahili_by_browser_or_switch(client):
    assert "Ingia mtandaoni" in client.get("/portal/", HTTP_ACCEPT_LANGUAGE="sw-KE,sw;q=0.9").content.decode()
    switched = client.get("/portal/", {"lang": "sw"})
    assert "Una vocha?" in switched.content.decode() and switched.cookies["portal_lang"].value == "sw"
    assert "Have a voucher?" in client.get("/portal/", {"lang": "en"}).content.decode()


def test_a_voucher_logs_the_device_in_through_the_router(client):
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    response = client.post("/portal/voucher/", {**{k.replace("-", "_"): v for k, v in ROUTER.items()},
                                                "code": vouchers.display(code).lower()})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'action="http://10.5.50.1/login"' in html
    assert f'name="username" value="{code.lower()}"' in html and 'name="dst" value="http://example.com/"' in html
    status_url = re.search(r'href="(/portal/status/\?t=[^"]+)"', html).group(1).replace("&amp;", "&")
    status = client.get(status_url).content.decode()
    assert "Daily" in status and "23 h" in status and "Unlimited" in status


def test_a_wrong_voucher_says_why_in_the_customers_language(client):
    daily()
    response = client.post("/portal/voucher/?lang=sw", {"code": "NOPE", "mac": ROUTER["mac"]})
    assert response.status_code == 400 and "Nambari hii ya vocha haipo" in response.content.decode()


@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2)
def test_guessing_is_slowed_down(client):
    for code in ("A", "B", "C"):  # the budget, then the one attempt of the slowed pace
        client.post("/portal/voucher/", {"code": code, "mac": ROUTER["mac"]}, REMOTE_ADDR="10.5.50.30")
    slowed = client.post("/portal/voucher/", {"code": "D"}, REMOTE_ADDR="10.5.50.30")
    assert slowed.status_code == 429 and 1 <= int(slowed["Retry-After"]) <= 30
    wrong_password = client.post("/portal/login/", {"phone": "0712555000", "password": "x"}, REMOTE_ADDR="10.5.50.30")
    assert wrong_password.status_code == 429  # phone sign-ins share the address's pace


def test_an_existing_customer_signs_in_with_phone_and_password(client):
    package = daily(limit_mb=1024)
    person = services.create_customer("0712 555 000")
    subscriptions.activate(person, package, "payment")
    wrong = client.post("/portal/login/", {"phone": "0712555000", "password": "nope"})
    assert wrong.status_code == 400 and "Wrong phone number, username or password." in wrong.content.decode()
    right = client.post("/portal/login/", {"phone": "+254 712 555 000", "password": person.password.upper(),
                                           "link_login_only": ROUTER["link-login-only"]})
    assert right.status_code == 200 and f'value="{person.username}"' in right.content.decode()
    client.post("/portal/login/", {"phone": "0712555000", "password": person.password, "mac": "aa:bb:cc:dd:ee:99",
                                   "ip": "10.5.50.99"})
    person.refresh_from_db()
    assert (person.last_mac, person.last_ip) == ("AA-BB-CC-DD-EE-99", "10.5.50.99")


def test_the_username_from_the_receipt_sms_signs_in_too(client):
    person = services.create_customer("0712 555 002")
    subscriptions.activate(person, daily(), "payment")
    page = client.get("/portal/").content.decode()
    assert "Phone number or username" in page
    right = client.post("/portal/login/", {"phone": person.username.upper(), "password": person.password,
                                           "link_login_only": ROUTER["link-login-only"]})
    assert right.status_code == 200 and f'value="{person.username}"' in right.content.decode()
    wrong = client.post("/portal/login/", {"phone": person.username, "password": "nope"})
    assert wrong.status_code == 400
    odd = client.post("/portal/login/", {"phone": "<script>", "password": "x"})
    assert odd.status_code == 400 and "phone number like 0712 345 678" in odd.content.decode()


def test_the_rfc8908_document_describes_the_asking_device(client):
    person = services.create_customer("0712 555 001")
    subscriptions.activate(person, daily(limit_mb=100), "payment")
    RadAcct.objects.create(acct_session_id="p", acct_unique_id="p", username=person.username,
                           nas_ip_address="10.8.0.2", framed_ip_address="10.5.50.77", acct_start_time=timezone.now(),
                           acct_input_octets=10 * 2**20, acct_output_octets=30 * 2**20)
    unknown = client.get("/portal/api", REMOTE_ADDR="10.5.50.99")
    assert unknown["Content-Type"] == "application/captive+json"
    assert unknown.json() == {"captive": True, "user-portal-url": "http://testserver/portal/"}
    known = client.get("/portal/api", REMOTE_ADDR="10.5.50.77").json()
    assert known["captive"] is False and known["bytes-remaining"] == 60 * 2**20
    assert timedelta(hours=23, minutes=59).total_seconds() < known["seconds-remaining"] <= 86400


def test_portal_forms_work_without_cookies():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    assert strict.post("/portal/voucher/", {"code": code}).status_code == 200


def test_the_language_switch_keeps_the_page(client):
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    html = client.post("/portal/voucher/", {"code": code, "mac": ROUTER["mac"]}).content.decode()
    switch = re.search(r'<a href="([^"]+)">Kiswahili</a>', html).group(1).replace("&amp;", "&")
    assert switch.startswith("/portal/?") and "lang=sw" in switch and "mac=AA" in switch
    status_url = re.search(r'href="(/portal/status/\?t=[^"]+)"', html).group(1).replace("&amp;", "&")
    status = client.get(status_url).content.decode()
    other = re.search(r'<a href="([^"]+)">Kiswahili</a>', status).group(1).replace("&amp;", "&")
    assert "Intaneti yako" in client.get(other).content.decode()


def test_credentials_go_to_routers_only_not_to_any_private_address(client):
    html = client.get("/portal/", {**ROUTER, "link-login-only": "http://10.5.50.23/steal"}).content.decode()
    assert 'value="http://10.5.50.23/steal"' not in html
    from radius import services as radius

    radius.register_nas("10.8.0.7", "router-secret-7", "Ruaka")
    ok = client.get("/portal/", {**ROUTER, "link-login-only": "http://10.8.0.7/login"}).content.decode()
    assert 'name="link_login_only" value="http://10.8.0.7/login"' in ok


def test_the_routers_login_url_is_checked_once_per_request(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from radius import services as radius

    radius.register_nas("203.0.113.9", "rooftop-nas-secret", "Rooftop")  # a router on a public address
    code = vouchers.generate_batch(daily(), 1).vouchers.get().code
    fields = {**{k.replace("-", "_"): v for k, v in ROUTER.items()}, "link_login_only": "http://203.0.113.9/login"}
    with CaptureQueriesContext(connection) as queries:
        html = client.post("/portal/voucher/", {**fields, "code": code}).content.decode()
    assert 'action="http://203.0.113.9/login"' in html
    assert sum('FROM "nas"' in query["sql"] for query in queries) == 1
