"""The customer account's own doors: signing in (phone or username, rate-limited, a closed account
told so), signing out, the next= that never leaves our pages, the password the customer chooses
(RADIUS follows, other browsers are signed out), signing one device off through the router, and
the account's websocket."""
import gzip
import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from audit.models import Entry
from config.asgi import application
from hotspot import account, devices, services, subscriptions
from hotspot.account_text import ACCOUNT_TEXT
from hotspot.models import Customer, Package
from hotspot.portal_text import words as portal_words
from hotspot.views import portal_account
from lib import live
from radius import services as radius
from radius.models import CoaAttempt, RadAcct
from radius.nas_simulator import NAK, NasSimulator

from .radius_server import accepted

SIGN_IN = "/portal/account/sign-in/"
PASSWORD = "/portal/account/password/"
DEVICE_OFF = "/portal/account/devices/sign-out/"
NAS_SECRET = "router-coa-secret-1"


def said(key, lang="en"):
    return ACCOUNT_TEXT[key][lang]


def make_customer(phone="0712 345 678", name="Wanjiru", paid=True):
    customer = services.create_customer(phone, name=name)
    if paid:
        package = Package.objects.filter(name="Daily").first() or services.save_package(
            Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))
        subscriptions.activate(customer, package, "payment")
    return customer


def sign_in(client, who, password, **extra):
    """The sign-in form posted; lowercase extras are more fields, uppercase ones the request's META."""
    fields = {key: value for key, value in extra.items() if key.islower()}
    meta = {key: value for key, value in extra.items() if not key.islower()}
    return client.post(SIGN_IN, {"phone": who, "password": password, **fields}, **meta)


def signed_in_as(client):
    return account.customer_in(client.session)


def shown(client, response) -> list[str]:
    """The notices a redirect left for the next account page, as that page shows them."""
    assert response.status_code == 302 and response.url == "/portal/account/"
    html = client.get(PASSWORD).content.decode()  # any page of the frame shows (and uses up) them
    return re.findall(r'<p class="(?:ok|err)" role="(?:status|alert)">([^<]+)</p>', html)


def open_session(customer, mac, session_id, ip="10.5.0.20", started=None):
    return RadAcct.objects.create(acct_session_id=session_id, acct_unique_id=f"u-{session_id}",
                                  username=customer.username, nas_ip_address="127.0.0.1", framed_ip_address=ip,
                                  calling_station_id=mac, acct_start_time=started or timezone.now())


@pytest.fixture
def nas(db):
    with NasSimulator(secret=NAS_SECRET.encode()) as simulator:
        radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", coa_port=simulator.port)
        yield simulator


# --- signing in and out


@pytest.mark.django_db
def test_a_customer_signs_in_with_the_phone_as_typed_and_a_capitalised_password(client):
    wanjiru = make_customer()
    answer = sign_in(client, "+254 712 345 678", wanjiru.password.capitalize(), next="/portal/account/tickets/")
    assert answer.status_code == 302 and answer.url == "/portal/account/tickets/"
    assert signed_in_as(client) == wanjiru
    # Signed in, the sign-in page sends them on instead of asking again.
    assert client.get(SIGN_IN).url == "/portal/account/"


@pytest.mark.django_db
def test_a_customer_signs_in_with_the_username_from_the_sms(client):
    wanjiru = make_customer()
    answer = sign_in(client, wanjiru.username.upper(), wanjiru.password)
    assert answer.status_code == 302 and answer.url == "/portal/account/"
    assert signed_in_as(client) == wanjiru


@pytest.mark.django_db
def test_a_wrong_password_is_a_form_error_in_the_customers_language(client):
    wanjiru = make_customer()
    wrong = sign_in(client, "0712345678", "not-it")
    assert wrong.status_code == 400 and "Wrong phone number, username or password." in wrong.content.decode()
    assert 'value="0712345678"' in wrong.content.decode()  # what they typed stays; the password does not
    client.cookies["portal_lang"] = "sw"
    wrong = sign_in(client, wanjiru.username, "not-it")
    assert "Nambari ya simu, jina la mtumiaji au nenosiri si sahihi." in wrong.content.decode()
    nobody = sign_in(client, "0799 999 999", wanjiru.password)
    assert nobody.status_code == 400 and signed_in_as(client) is None


@pytest.mark.django_db
def test_neither_a_phone_nor_a_username_says_how_to_write_the_number(client):
    answer = sign_in(client, "07-12 abc!", "whatever")
    assert answer.status_code == 400 and "Enter a phone number like 0712 345 678." in answer.content.decode()


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2, PORTAL_VOUCHER_SLOWDOWN_SECONDS=60)
def test_guessing_passwords_is_slowed_then_refused_with_retry_after(client):
    wanjiru = make_customer()
    statuses = [sign_in(client, wanjiru.phone, f"guess{n}").status_code for n in range(3)]
    assert statuses == [400, 400, 400]  # the budget, then one attempt of the slowed pace
    refused = sign_in(client, wanjiru.phone, wanjiru.password)  # even the right one waits
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many attempts" in refused.content.decode() and signed_in_as(client) is None
    assert sign_in(client, wanjiru.phone, wanjiru.password, REMOTE_ADDR="10.9.0.1").status_code == 302


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2)
def test_right_passwords_and_malformed_numbers_use_up_no_guesses(client):
    wanjiru = make_customer()
    for _ in range(3):
        assert sign_in(client, wanjiru.phone, wanjiru.password).status_code == 302
        assert sign_in(client, "no number", "x").status_code == 400
    assert [sign_in(client, wanjiru.phone, "nope").status_code for _ in range(4)] == [400, 400, 400, 429]


@pytest.mark.django_db
def test_a_closed_account_is_told_so_but_only_to_who_knows_its_password(client):
    wanjiru = make_customer()
    services.set_customer_active(wanjiru, False)
    wrong = sign_in(client, wanjiru.phone, "guess1")
    assert wrong.status_code == 400 and said("account_closed") not in wrong.content.decode()
    right = sign_in(client, wanjiru.phone, wanjiru.password)
    assert right.status_code == 403 and said("account_closed") in right.content.decode()
    assert signed_in_as(client) is None


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["//evil.com", "/portal/account/\\evil", "https://evil", "/portal/account//evil.com",
                                    "/portal/account/\\\\evil.com/x", "http://testserver.evil/portal/account/",
                                    "/portal/account/\n//evil.com", "/login/", "/portal/account/sign-in/?x=1"])
def test_next_never_leaves_the_account_pages(client, target):
    wanjiru = make_customer()
    page = client.get(SIGN_IN, {"next": target})
    assert re.search(r'name="next" value="/portal/account/"', page.content.decode())
    answer = sign_in(client, wanjiru.phone, wanjiru.password, next=target)
    assert answer.status_code == 302 and answer.url == "/portal/account/"
    assert client.get(SIGN_IN, {"next": target}).url == "/portal/account/"


@pytest.mark.django_db
def test_closing_the_account_at_the_shop_signs_the_customer_out(client):
    wanjiru = make_customer()
    sign_in(client, wanjiru.phone, wanjiru.password)
    assert client.get(PASSWORD).status_code == 200
    services.set_customer_active(wanjiru, False)
    assert client.get(PASSWORD).url.startswith(SIGN_IN) and signed_in_as(client) is None


@pytest.mark.django_db
def test_a_page_asked_for_while_signed_out_comes_back_after_signing_in(client):
    wanjiru = make_customer()
    sent = client.get(PASSWORD)
    assert sent.status_code == 302 and sent.url == f"{SIGN_IN}?next=%2Fportal%2Faccount%2Fpassword%2F"
    assert sign_in(client, wanjiru.phone, wanjiru.password, next=PASSWORD).url == PASSWORD


@pytest.mark.django_db
def test_signing_out_takes_a_post_with_the_csrf_token(client):
    wanjiru = make_customer()
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(SIGN_IN).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    planted = browser.cookies[settings.CSRF_COOKIE_NAME].value
    assert sign_in(browser, wanjiru.phone, wanjiru.password).status_code == 403  # no token: refused
    assert sign_in(browser, wanjiru.phone, wanjiru.password, csrfmiddlewaretoken=token).status_code == 302
    assert browser.get("/portal/account/sign-out/").status_code == 405
    assert browser.post("/portal/account/sign-out/").status_code == 403  # a forged form signs nobody out
    assert signed_in_as(browser) == wanjiru
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    assert token != planted  # a new token with the new session, as staff sign-in does
    out = browser.post("/portal/account/sign-out/", {"csrfmiddlewaretoken": token})
    assert out.status_code == 302 and out.url == f"{SIGN_IN}?signed-out"
    assert signed_in_as(browser) is None
    assert said("signed_out") in browser.get(out.url).content.decode()


# --- the password


def change(client, current, new, again=None):
    return client.post(PASSWORD, {"current": current, "new": new, "again": new if again is None else again})


@pytest.mark.django_db
def test_changing_the_password_writes_radius_audits_and_signs_out_the_other_browsers(client):
    wanjiru = make_customer()
    old = wanjiru.password
    phone_browser, laptop = client, Client()
    for browser in (phone_browser, laptop):
        sign_in(browser, wanjiru.phone, old)
    done = change(phone_browser, old.upper(), "Maziwa2026")
    assert done.status_code == 302 and done.url == f"{PASSWORD}?changed"
    wanjiru.refresh_from_db()
    assert wanjiru.password == "maziwa2026"  # stored as RADIUS compares it: lowercase
    check = {row.attribute: row.value for row in radius.access_of(wanjiru.username)["check"]}
    assert check["Cleartext-Password"] == "maziwa2026"
    assert said("password_changed") in phone_browser.get(done.url).content.decode()  # this browser stays in
    assert signed_in_as(phone_browser) == wanjiru
    assert laptop.get(PASSWORD).url.startswith(SIGN_IN)  # the other one is out
    entry = Entry.objects.get(action="password_changed")
    assert (entry.actor_kind, entry.actor_id, entry.object_id) == ("customer", str(wanjiru.pk), str(wanjiru.pk))
    assert entry.ip == "127.0.0.1"
    assert "maziwa2026" not in str(entry.changes) + entry.note and old not in str(entry.changes) + entry.note
    # The old password no longer signs in; the new one does, in any capitals.
    assert sign_in(Client(), wanjiru.phone, old).status_code == 400
    assert sign_in(Client(), wanjiru.phone, "MAZIWA2026").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(("new", "again", "current", "word"), [
    ("maziwa2026", "maziwa2025", None, "password_mismatch"),
    ("abc12", "abc12", None, "password_rule"),
    ("maziwa 2026", "maziwa 2026", None, "password_rule"),
    ("maziwa-2026", "maziwa-2026", None, "password_rule"),
    ("a" * 33, "a" * 33, None, "password_rule"),
    ("maziwa2026", "maziwa2026", "not-it", "password_wrong"),
])
def test_a_refused_change_says_why_and_changes_nothing(client, new, again, current, word):
    wanjiru = make_customer()
    old = wanjiru.password
    sign_in(client, wanjiru.phone, old)
    refused = change(client, current or old, new, again)
    assert refused.status_code == 400 and said(word) in refused.content.decode()
    wanjiru.refresh_from_db()
    assert wanjiru.password == old and not Entry.objects.filter(action="password_changed").exists()
    assert signed_in_as(client) == wanjiru


@pytest.mark.django_db
def test_the_language_switch_stays_on_the_account(client):
    """After a refused account form the other language is the account's first page, not the captive
    portal's; on the sign-in page it keeps where the customer was going."""
    wanjiru = make_customer()
    going = client.get(SIGN_IN, {"next": "/portal/account/tickets/", "lang": "en"}).content.decode()
    assert 'href="/portal/account/sign-in/?next=%2Fportal%2Faccount%2Ftickets%2F&amp;lang=sw"' in going
    sign_in(client, wanjiru.phone, wanjiru.password)
    refused = change(client, "not-it", "maziwa2026", "maziwa2026").content.decode()
    assert 'href="/portal/account/?lang=sw"' in refused


@pytest.mark.django_db
def test_the_password_page_speaks_kiswahili_and_wants_the_csrf_token():
    wanjiru = make_customer()
    browser = Client(enforce_csrf_checks=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(SIGN_IN).content.decode()).group(1)
    sign_in(browser, wanjiru.phone, wanjiru.password, csrfmiddlewaretoken=token)
    page = browser.get(PASSWORD, {"lang": "sw"}).content.decode()
    assert "Badilisha nenosiri lako" in page and "Nenosiri la sasa" in page and 'lang="sw"' in page
    assert change(browser, wanjiru.password, "maziwa2026").status_code == 403
    wanjiru.refresh_from_db()
    assert wanjiru.password != "maziwa2026"


@pytest.mark.django_db
@override_settings(PORTAL_VOUCHER_FAILURES_PER_IP=2, PORTAL_VOUCHER_SLOWDOWN_SECONDS=60)
def test_guessing_the_current_password_is_slowed_like_signing_in(client):
    wanjiru = make_customer()
    sign_in(client, wanjiru.phone, wanjiru.password)
    statuses = [change(client, f"guess{n}", "maziwa2026").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]


@pytest.mark.django_db(transaction=True)
def test_after_a_change_freeradius_takes_the_new_password_only(radius_server, client):
    wanjiru = make_customer("0712 345 671")
    old = wanjiru.password
    sign_in(client, wanjiru.phone, old)
    assert change(client, old, "chai4two").status_code == 302
    assert accepted(radius_server.authenticate(wanjiru.username, "chai4two"))
    assert not accepted(radius_server.authenticate(wanjiru.username, old))


# --- devices


@pytest.mark.django_db
def test_devices_are_the_macs_of_open_and_recent_sessions_online_first(client):
    wanjiru = make_customer()
    now = timezone.now()
    open_session(wanjiru, "aa:bb:cc:00:00:01", "s1", started=now - timedelta(hours=3))
    RadAcct.objects.filter(acct_session_id="s1").update(acct_update_time=now - timedelta(minutes=4))
    closed = open_session(wanjiru, "AA-BB-CC-00-00-02", "s2", started=now - timedelta(days=2))
    RadAcct.objects.filter(pk=closed.pk).update(acct_stop_time=now - timedelta(days=1))
    old = open_session(wanjiru, "AA-BB-CC-00-00-03", "s3", started=now - timedelta(days=120))
    RadAcct.objects.filter(pk=old.pk).update(acct_stop_time=now - timedelta(days=119))
    open_session(make_customer("0712 000 001", "Otieno"), "AA-BB-CC-00-00-04", "s4")
    Customer.objects.filter(pk=wanjiru.pk).update(last_mac="AA-BB-CC-00-00-09", last_ip="10.5.0.9")
    wanjiru.refresh_from_db()
    found = devices.for_customer(wanjiru)
    assert [(d.mac, d.online) for d in found] == [
        ("AA-BB-CC-00-00-01", True), ("AA-BB-CC-00-00-02", False), ("AA-BB-CC-00-00-09", False)]
    assert found[0].last_seen == now - timedelta(minutes=4) and found[0].ip == "10.5.0.20"
    assert found[2].last_seen is None and found[2].ip == "10.5.0.9"
    request = RequestFactory().get("/portal/account/")
    html = render_to_string("portal/account/_devices.html", {"devices": found, "a": {
        key: value["en"] for key, value in ACCOUNT_TEXT.items()}}, request=request)
    assert html.count(f'action="{DEVICE_OFF}"') == 1 and 'value="AA-BB-CC-00-00-01"' in html
    assert "csrfmiddlewaretoken" in html and "Sign this device out" in html


@pytest.mark.django_db
def test_a_long_history_still_lists_ten_devices_from_one_bounded_query(django_assert_max_num_queries):
    wanjiru = make_customer()
    start = timezone.now() - timedelta(days=30)
    RadAcct.objects.bulk_create(RadAcct(
        acct_session_id=f"h{n}", acct_unique_id=f"u-h{n}", username=wanjiru.username, nas_ip_address="127.0.0.1",
        calling_station_id=f"AA-BB-CC-00-{n // 256:02X}-{n % 256:02X}", acct_start_time=start + timedelta(minutes=n),
        acct_stop_time=start + timedelta(minutes=n + 1)) for n in range(500))
    with django_assert_max_num_queries(2):
        found = devices.for_customer(wanjiru)
    assert len(found) == devices.MOST and found[0].mac == "AA-BB-CC-00-01-F3"  # the newest, n = 499


@pytest.mark.django_db
def test_signing_a_device_out_reaches_the_router_for_that_customers_sessions_only(client, nas):
    wanjiru, otieno = make_customer(), make_customer("0712 000 002", "Otieno")
    phone = open_session(wanjiru, "AA-BB-CC-00-00-01", "80300001", ip="10.5.0.21")
    open_session(wanjiru, "AA-BB-CC-00-00-05", "80300005", ip="10.5.0.25")  # her laptop stays on
    open_session(otieno, "AA-BB-CC-00-00-01", "80300002", ip="10.5.0.22")  # the same (randomised) MAC: not hers
    sign_in(client, wanjiru.phone, wanjiru.password)
    answer = client.post(DEVICE_OFF, {"mac": "aa:bb:cc:00:00:01"})
    # The open page's refetch, on the session.disconnected event racing the redirect, leaves the notice.
    assert said("device_signed_out") not in client.get(PASSWORD, HTTP_X_LIVE="1").content.decode()
    assert shown(client, answer) == [said("device_signed_out")]
    [got] = nas.received
    assert got.kind == "disconnect" and got.attributes["Acct-Session-Id"] == "80300001"
    assert got.attributes["User-Name"] == wanjiru.username
    attempt = CoaAttempt.objects.get()
    assert attempt.session_id == phone.pk and attempt.requested_by == f"customer {wanjiru.username}"
    entry = Entry.objects.get(action="disconnected")
    assert (entry.actor_kind, entry.actor_id) == ("customer", str(wanjiru.pk))


@pytest.mark.django_db
def test_another_customers_device_is_refused_and_nothing_is_sent(client, nas):
    wanjiru, otieno = make_customer(), make_customer("0712 000 002", "Otieno")
    open_session(otieno, "AA-BB-CC-00-00-07", "80300007")
    sign_in(client, wanjiru.phone, wanjiru.password)
    for mac in ("AA-BB-CC-00-00-07", "", "not a mac", "x" * 5000):
        assert shown(client, client.post(DEVICE_OFF, {"mac": mac})) == [said("device_not_yours")]
    assert nas.received == [] and not CoaAttempt.objects.exists()
    assert not Entry.objects.filter(action="disconnected").exists()


@pytest.mark.django_db
def test_a_router_that_refuses_is_reported_not_hidden(client, nas):
    wanjiru = make_customer()
    nas.answer(wanjiru.username, NAK)
    open_session(wanjiru, "AA-BB-CC-00-00-01", "80300001")
    sign_in(client, wanjiru.phone, wanjiru.password)
    answer = client.post(DEVICE_OFF, {"mac": "AA-BB-CC-00-00-01"})
    assert shown(client, answer) == [said("device_not_confirmed")]


@pytest.mark.django_db
def test_device_sign_out_wants_a_signed_in_customer_and_the_csrf_token(nas):
    wanjiru = make_customer()
    open_session(wanjiru, "AA-BB-CC-00-00-01", "80300001")
    browser = Client(enforce_csrf_checks=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(SIGN_IN).content.decode()).group(1)
    assert browser.post(DEVICE_OFF, {"mac": "AA-BB-CC-00-00-01", "csrfmiddlewaretoken": token}).url.startswith(SIGN_IN)
    sign_in(browser, wanjiru.phone, wanjiru.password, csrfmiddlewaretoken=token)
    assert browser.post(DEVICE_OFF, {"mac": "AA-BB-CC-00-00-01"}).status_code == 403
    assert nas.received == []


# --- the pages themselves


@pytest.mark.django_db
def test_the_pages_are_light_and_speak_kiswahili(client):
    wanjiru = make_customer()
    sign_in_page = client.get(SIGN_IN, {"lang": "sw"}, HTTP_ACCEPT_ENCODING="gzip")
    assert sign_in_page["Content-Encoding"] == "gzip" and len(sign_in_page.content) < 30 * 1024
    html = gzip.decompress(sign_in_page.content).decode()
    assert "Ingia kwenye akaunti yako" in html and "Nambari ya simu au jina la mtumiaji" in html
    assert "<script" not in html  # nobody signed in: nothing to listen for
    sign_in(client, wanjiru.phone, wanjiru.password)
    page = client.get(PASSWORD, {"lang": "en"}, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip" and len(page.content) < 30 * 1024
    assert "Change your password" in gzip.decompress(page.content).decode()


@pytest.mark.django_db
def test_the_portal_and_its_status_page_lead_to_the_account(client):
    assert 'href="/portal/account/sign-in/?lang=en"' in client.get("/portal/", {"lang": "en"}).content.decode()
    wanjiru = make_customer()
    from hotspot.portal import status_token

    status = client.get("/portal/status/", {"t": status_token(wanjiru.username), "lang": "sw"}).content.decode()
    assert 'href="/portal/account/?lang=sw"' in status and "Akaunti yangu" in status


# --- the account's websocket


def account_socket(client=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/portal/account/", headers=headers)


@async_to_sync
async def refused_code(ws):
    """The close code of a refused socket; None when it was let in."""
    connected, code = await ws.connect()
    if connected:
        await ws.disconnect()
        return None
    return code


@pytest.mark.django_db(transaction=True)  # the consumer reads the session on its own connection
def test_a_signed_in_customer_hears_their_own_payment_and_nobody_elses(client):
    wanjiru, otieno = make_customer(), make_customer("0712 000 002", "Otieno")
    sign_in(client, wanjiru.phone, wanjiru.password)

    @async_to_sync
    async def listen():
        from channels.db import database_sync_to_async

        ws = account_socket(client)
        connected, _ = await ws.connect()
        assert connected
        hello = await ws.receive_json_from(timeout=3)

        def pay():
            live.publish(live.customer_group(otieno.pk), "payment.completed", {"id": 2})
            live.publish(live.customer_group(wanjiru.pk), "payment.completed", {"id": 1})

        await database_sync_to_async(pay)()
        try:
            event = await ws.receive_json_from(timeout=3)
            quiet = await ws.receive_nothing(timeout=0.3)
        finally:
            await ws.disconnect()
        return hello, event, quiet

    hello, event, quiet = listen()
    assert hello == {"event": "live.connected", "data": {"groups": [f"customer.{wanjiru.pk}"]}}
    assert event == {"event": "payment.completed", "data": {"id": 1}} and quiet


@pytest.mark.django_db(transaction=True)
def test_the_socket_refuses_the_anonymous_and_a_browser_whose_password_changed(client):
    assert refused_code(account_socket()) == 4403
    wanjiru = make_customer()
    sign_in(client, wanjiru.phone, wanjiru.password)
    services.reset_password(wanjiru)  # at the shop: every browser signed in before is out
    assert refused_code(account_socket(client)) == 4403
    otieno = make_customer("0712 000 002", "Otieno")
    sign_in(client, otieno.phone, otieno.password)
    assert refused_code(account_socket(client)) is None  # signed in again: heard
    services.set_customer_active(otieno, False)  # closed at the shop: no longer heard
    assert refused_code(account_socket(client)) == 4403


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["password changed elsewhere", "signed out in another tab", "closed at the shop"])
def test_an_open_socket_hears_no_more_once_its_browser_is_signed_out(client, how):
    wanjiru = make_customer()
    sign_in(client, wanjiru.phone, wanjiru.password)

    def sign_the_browser_out():
        if how == "password changed elsewhere":
            laptop = Client()
            sign_in(laptop, wanjiru.phone, wanjiru.password)
            change(laptop, wanjiru.password, "maziwa2026")
        elif how == "signed out in another tab":
            client.post("/portal/account/sign-out/")
        else:
            services.set_customer_active(wanjiru, False)
        live.publish(live.customer_group(wanjiru.pk), "payment.completed", {"id": 1})

    @async_to_sync
    async def listen():
        from channels.db import database_sync_to_async

        ws = account_socket(client)
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from(timeout=3)  # live.connected
        await database_sync_to_async(sign_the_browser_out)()
        try:
            return await ws.receive_output(timeout=3)
        finally:
            await ws.disconnect()

    assert listen() == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db(transaction=True)
def test_the_waiting_pages_socket_hears_payments_only_not_the_accounts_other_news(client):
    """Its token is a payment's, passed in a link: tickets and sessions stay the signed-in owner's."""
    from billing import purchase
    from billing.models import Payment

    wanjiru = make_customer()
    payment = Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=50)
    path = f"/ws/portal/payments/{purchase.token_for(payment)}/"

    @async_to_sync
    async def listen():
        from channels.db import database_sync_to_async

        ws = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver"),
                                                               (b"host", b"testserver")])
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from(timeout=3)  # live.connected

        def news():
            group = live.customer_group(wanjiru.pk)
            live.publish_many([(group, "ticket.changed", {"number": "T-2026-00001"}),
                               (group, "session.disconnected", {"customer": wanjiru.pk})])
            live.publish(group, "payment.completed", {"id": payment.pk})

        await database_sync_to_async(news)()
        try:
            heard = await ws.receive_json_from(timeout=3)
            quiet = await ws.receive_nothing(timeout=0.3)
        finally:
            await ws.disconnect()
        return heard, quiet

    heard, quiet = listen()
    assert heard["event"] == "payment.completed" and quiet


def guessing_from_new_addresses(client, who, guesses, first=1):
    """A wrong password tried against ``who`` from each of ``guesses`` addresses never used before."""
    return [sign_in(client, who, f"guess{n}", REMOTE_ADDR=f"10.77.{n // 250}.{n % 250 + 1}").status_code
            for n in range(first, first + guesses)]


@pytest.mark.django_db
def test_guessing_one_accounts_password_from_many_addresses_is_slowed_on_that_account(client):
    wanjiru, otieno = make_customer(), make_customer("0733 444 555", "Otieno")
    client.get(SIGN_IN, {"lang": "sw"})  # her language, kept in its cookie
    budget = portal_account.ACCOUNT_GUESSES
    # The budget, then one attempt of the slowed pace; every address is fresh (their own limit is 20).
    assert guessing_from_new_addresses(client, wanjiru.phone, budget + 1) == [400] * (budget + 1)
    refused = sign_in(client, wanjiru.phone, "guess-next", REMOTE_ADDR="10.78.0.1")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= portal_account.ACCOUNT_GUESS_SECONDS
    assert portal_words("sw")["too_many"] in refused.content.decode()
    # Her username is the same account; even her right password waits, from anywhere.
    assert sign_in(client, wanjiru.username, "guess", REMOTE_ADDR="10.78.0.2").status_code == 429
    assert sign_in(client, wanjiru.phone, wanjiru.password, REMOTE_ADDR="10.78.0.3").status_code == 429
    assert signed_in_as(client) is None
    # Another account is not slowed by her guesser, nor is a refused attempt a guess against the address.
    assert sign_in(client, otieno.phone, otieno.password, REMOTE_ADDR="10.78.0.1").status_code == 302


@pytest.mark.django_db
def test_the_right_password_forgives_the_guesses_at_the_account(client):
    wanjiru = make_customer()
    budget = portal_account.ACCOUNT_GUESSES
    assert guessing_from_new_addresses(client, wanjiru.phone, budget - 1) == [400] * (budget - 1)
    assert sign_in(Client(), wanjiru.phone, wanjiru.password, REMOTE_ADDR="10.79.0.1").status_code == 302
    # A fresh budget, then the slowed pace: the count did start again.
    assert guessing_from_new_addresses(client, wanjiru.phone, budget + 2, first=100) == [400] * (budget + 1) + [429]


@pytest.mark.django_db
def test_guessing_the_current_password_is_slowed_on_the_account_too(client):
    wanjiru = make_customer()
    budget = portal_account.ACCOUNT_GUESSES
    assert guessing_from_new_addresses(client, wanjiru.phone, budget) == [400] * budget
    assert sign_in(client, wanjiru.phone, wanjiru.password).status_code == 302  # forgives: the count starts again
    # Fewer than the address's own limit (20): the account's is what slows these.
    statuses = [change(client, f"guess{n}", "maziwa2026").status_code for n in range(budget + 2)]
    assert statuses == [400] * (budget + 1) + [429]
    # And signing in is slowed with them: one count per account.
    assert sign_in(Client(), wanjiru.phone, "guess", REMOTE_ADDR="10.80.0.1").status_code == 429
