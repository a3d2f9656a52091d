"""M-Pesa keys saved on the Settings page reach the next STK push in another, running process (a
gunicorn worker, where the portal's pushes are sent) with no restart; "Test credentials" shows
Daraja's answer; the secret shows up nowhere: no page, API answer, log line, audit value, and not in
the database in clear."""
import logging
import os
import secrets
import socket
import sys
import time

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from audit import trail
from audit.models import Entry
from billing.callbacks import source_allowed
from billing.daraja import Daraja
from billing.daraja_simulator import DarajaSimulator
from billing.models import Payment
from billing.payments import callback_url
from hotspot import services
from hotspot.models import Package
from lib.shared_cache import cache as shared_cache
from siteconfig import store
from siteconfig.models import Value

from .browser import ROOT, free_port, running_server
from .payments_kit import wait_for
from .staff_kit import bearer

OLD_KEY, OLD_SECRET = "simulator-key", "simulator-secret"
NEW_KEY = "rotated-app-key"
PHONES = iter(f"2547120000{n:02d}" for n in range(1, 99))
LOG_NAME = "gunicorn-settings-mpesa.log"


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db.get('PASSWORD', '')}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def daraja_port():
    return free_port()


@pytest.fixture
def web(transactional_db, settings, daraja_port):
    """The product's web tier as deployed (gunicorn, one gthread worker) on the test database: the
    portal's purchases send their STK push from this process. Its environment holds the old keys."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=database_url(), REDIS_URL=settings.REDIS_URL, DATABASE_CONN_MAX_AGE="0",
               WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1", WEB_THREADS="2",
               MPESA_BASE_URL=f"http://127.0.0.1:{daraja_port}", MPESA_CONSUMER_KEY=OLD_KEY,
               MPESA_CONSUMER_SECRET=OLD_SECRET, MPESA_CALLBACK_BASE_URL=f"http://127.0.0.1:{port}")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "gunicorn.conf.py"]
    # This process reads the same defaults, so a value left as it is on the page is not saved.
    settings.MPESA_BASE_URL, settings.MPESA_CALLBACK_BASE_URL = env["MPESA_BASE_URL"], env["MPESA_CALLBACK_BASE_URL"]
    settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = OLD_KEY, OLD_SECRET
    with running_server(command, env, port, LOG_NAME, start_seconds=20) as base:
        yield base


def buy(web: str, package: Package) -> httpx.Response:
    return httpx.post(f"{web}/api/purchase/mpesa/initiate", timeout=15, json={
        "package_id": package.pk, "phone": next(PHONES), "mac": "AA:BB:CC:DD:EE:01", "ip": "10.5.50.9"})


def mpesa_form(**changes) -> dict:
    """The M-Pesa page's form as the browser posts it: current values, secrets blank, then ``changes``."""
    form = store.form("mpesa")
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, "")
        data[name] = field.prepare_value(value) if value is not None else ""
    data.update(changes)
    return data


def test_saved_keys_reach_the_next_push_in_a_running_worker_and_stay_secret(web, daraja_port, admin_client, admin,
                                                                            finance_clerk, client, caplog):
    caplog.set_level(logging.DEBUG)
    new_secret, new_passkey = f"secret-{secrets.token_hex(12)}", f"passkey-{secrets.token_hex(12)}"
    daily = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440, rate_limit="2M/5M"))

    # Before: the worker pushes with the environment's keys.
    with DarajaSimulator(port=daraja_port, consumer_key=OLD_KEY, consumer_secret=OLD_SECRET) as old:
        first = buy(web, daily)
        assert first.status_code == 200, first.text
        assert old.token_requests == 1 and len(old.transactions) == 1

    # The operator's Daraja app gets new keys: Daraja now knows only those, the old ones fail.
    with DarajaSimulator(port=daraja_port, consumer_key=NEW_KEY, consumer_secret=new_secret) as daraja:
        refused = buy(web, daily)
        assert refused.status_code == 503 and refused.json()["reason"] == "mpesa_unavailable"
        assert daraja.refused_token_requests >= 1 and daraja.transactions == {}

        # "Test credentials" with the old keys still in place: Daraja's own words.
        tested = admin_client.post("/settings/mpesa/test/", follow=True)
        assert "refused the keys: Invalid Authentication passed (400.008.01)" in tested.content.decode()
        api_refused = client.post("/api/settings/mpesa/test", **bearer(admin))
        said = api_refused.json()
        assert api_refused.status_code == 502 and said["ok"] is False and said["reason"] == "refused"
        assert said["code"] == "400.008.01" and "Invalid Authentication passed" in said["error"] == said["detail"]

        # The new keys, saved on the page (no restart of anything).
        saved = admin_client.post("/settings/mpesa/", mpesa_form(
            consumer_key=NEW_KEY, consumer_secret=new_secret, passkey=new_passkey))
        assert saved.status_code == 302, saved.content.decode()[:2000]
        # The worker notices within SITECONFIG_CHECK_SECONDS: its next push authenticates with the new keys
        # (Daraja gives tokens to the new pair alone, and this is the first token it issues).
        time.sleep(django_settings.SITECONFIG_CHECK_SECONDS + 0.3)
        assert daraja.token_requests == 0
        pushed = buy(web, daily)
        assert pushed.status_code == 200, pushed.text
        assert daraja.token_requests == 1
        checkout = pushed.json()["checkout_request_id"]
        assert checkout in daraja.transactions

        tested = admin_client.post("/settings/mpesa/test/", follow=True)
        assert "The Daraja simulator accepted the keys" in tested.content.decode()
        api_ok = client.post("/api/settings/mpesa/test", **bearer(admin))
        assert api_ok.status_code == 200 and api_ok.json()["ok"] is True
        # ... and it is paid: the simulator's callback reaches the worker, which settles it.
        paid = wait_for(lambda: Payment.objects.filter(checkout_request_id=checkout, status=Payment.Status.COMPLETED)
                        .first(), 8)
        assert paid.amount == 50

    log = (ROOT / "var" / LOG_NAME).read_text()
    assert log.count("Booting worker") == 1, "the worker was restarted"

    # The secret and the passkey: nowhere to be read back.
    finance = client_for(finance_clerk)
    answers = [admin_client.get("/settings/mpesa/"), admin_client.get("/settings/"), finance.get("/settings/mpesa/"),
               admin_client.get("/payments/methods/"), admin_client.get("/activity/"), saved, tested,
               client.get("/api/settings/mpesa", **bearer(admin)), client.get("/api/logs/activity", **bearer(admin)),
               api_ok, api_refused]
    assert answers[0].status_code == 200 and answers[2].status_code == 200
    for answer in answers:
        body = answer.content.decode()
        assert new_secret not in body and new_passkey not in body, answer.request["PATH_INFO"]
    for secret in (new_secret, new_passkey):
        assert secret not in caplog.text and secret not in log
        assert not any(secret in repr(entry.changes) for entry in Entry.objects.all())
        assert rows_holding(secret) == [], "a secret is stored in clear"
    entry = Entry.objects.get(object_type="siteconfig.value", object_id="mpesa")
    assert entry.changes["consumer_secret"] == entry.changes["passkey"] == trail.SECRET
    assert entry.changes["consumer_key"] == [OLD_KEY, NEW_KEY]
    # Encrypted, yet what the adapter reads is the secret itself.
    stored = Value.objects.get(key="mpesa.consumer_secret")
    assert stored.secret == new_secret and Daraja().consumer_secret == new_secret


def client_for(user):
    other = Client()
    other.force_login(user)
    return other


def rows_holding(text: str) -> list[str]:
    """Every table whose rows, read as text by PostgreSQL itself, contain ``text``."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" AS row WHERE row::text LIKE %s', [f"%{text}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


# --- the adapter reads the settings at each use ---------------------------------------------------


@pytest.mark.django_db
def test_new_keys_get_a_new_token_and_the_old_keys_token_is_dropped(settings, django_capture_on_commit_callbacks):
    with DarajaSimulator() as daraja:
        settings.MPESA_BASE_URL = daraja.base_url
        settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = OLD_KEY, OLD_SECRET
        old_token = Daraja().token()
        assert Daraja().token() == old_token and daraja.token_requests == 1
        old_key = Daraja()._token_key
        daraja.consumer_key, daraja.consumer_secret = NEW_KEY, "new-secret"
        with django_capture_on_commit_callbacks(execute=True):
            store.save("mpesa", {"consumer_key": NEW_KEY, "consumer_secret": "new-secret"})
        assert shared_cache.get(old_key) is None  # dropped on save, not left to expire
        assert Daraja().token() != old_token and daraja.token_requests == 2


@pytest.mark.django_db
def test_a_till_is_paid_at_its_own_number_and_a_paybill_at_the_shortcode(settings, django_capture_on_commit_callbacks):
    with DarajaSimulator() as daraja:
        settings.MPESA_BASE_URL = daraja.base_url
        settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = OLD_KEY, OLD_SECRET

        def push() -> dict:
            started = Daraja().stk_push(phone="254712345678", amount=10, account_reference="HOTSPOT",
                                        description="Daily", callback_url="http://127.0.0.1:9/callback")
            return daraja.transactions[started.checkout_request_id].body

        with django_capture_on_commit_callbacks(execute=True):
            store.save("mpesa", {"shortcode": "600100", "party_b": "5123456",
                                 "transaction_type": "CustomerPayBillOnline"})
        paybill = push()
        assert (paybill["BusinessShortCode"], paybill["PartyB"], paybill["TransactionType"]) == (
            "600100", "600100", "CustomerPayBillOnline")
        with django_capture_on_commit_callbacks(execute=True):
            store.save("mpesa", {"transaction_type": "CustomerBuyGoodsOnline"})
        till = push()
        assert (till["BusinessShortCode"], till["PartyB"], till["TransactionType"]) == (
            "600100", "5123456", "CustomerBuyGoodsOnline")


@pytest.mark.django_db
def test_callbacks_come_only_from_the_saved_networks(settings, django_capture_on_commit_callbacks):
    settings.MPESA_CALLBACK_ALLOWED_IPS = []
    assert source_allowed("203.0.113.9")
    with django_capture_on_commit_callbacks(execute=True):
        store.save("mpesa", {"callback_allowed_networks": ["196.201.214.0/24"],
                             "callback_base_url": "https://isp.example.com"})
    assert source_allowed("196.201.214.200") and not source_allowed("203.0.113.9")
    assert not source_allowed("not-an-address")
    assert callback_url().startswith("https://isp.example.com/api/payments/callback/")


# --- "Test credentials" when Daraja cannot say -----------------------------------------------------


@pytest.mark.django_db
def test_test_credentials_says_when_daraja_is_unreachable_or_silent(settings, admin, admin_client, client):
    settings.MPESA_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    answer = client.post("/api/settings/mpesa/test", **bearer(admin))
    assert answer.status_code == 502 and answer.json()["reason"] == "unreachable"
    page = admin_client.post("/settings/mpesa/test/", follow=True).content.decode()
    assert "The keys were not checked: Could not reach Daraja at" in page
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings.MPESA_BASE_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.MPESA_TIMEOUT_SECONDS = 1
        answer = client.post("/api/settings/mpesa/test", **bearer(admin))
    assert answer.status_code == 502 and answer.json()["reason"] == "timeout"
    assert answer.json()["error"] == "The keys were not checked: Daraja did not answer in 1 s"


@pytest.mark.django_db
def test_only_an_admin_tests_credentials_and_only_by_post(finance_clerk, admin_client):
    # Finance reads the M-Pesa settings, never changes or tests them.
    assert client_for(finance_clerk).post("/settings/mpesa/test/").status_code == 403
    assert admin_client.get("/settings/mpesa/test/").status_code == 405
