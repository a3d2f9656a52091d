"""The dashboard's operations cards (system health, queues) for Admins and Technicians, the customers
online from radacct with their 24-hour chart (sampled by a job, kept 90 days), and session.disconnected."""
import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from config.asgi import application
from hotspot import services as hotspot
from hotspot import subscriptions
from hotspot.models import Customer, Package
from lib import live
from monitoring import sampling, tasks
from monitoring.models import TaskFailure, UsersOnlineSample
from radius import services as radius
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator
from routers import actions

from .browser import SCREENSHOTS, elsewhere
from .routers_kit import make_router
from .staff_kit import PASSWORD

pytestmark = pytest.mark.django_db
SECRET = "router-coa-secret-1"


def open_session(username, n=1, nas="127.0.0.1", stopped=False):
    now = timezone.now()
    return RadAcct.objects.create(acct_session_id=f"s-{username}-{n}", acct_unique_id=f"u-{username}-{n}",
                                  username=username, nas_ip_address=nas, framed_ip_address="10.5.0.77",
                                  acct_start_time=now - timedelta(minutes=30),
                                  acct_stop_time=now if stopped else None)


def make_sample(users, ago, now=None):
    return UsersOnlineSample.objects.create(users=users, at=(now or timezone.now()) - ago)


@pytest.mark.parametrize("role", [ADMIN, TECHNICIAN])
def test_it_shows_the_health_and_queue_cards_to_admins_and_technicians(signed_in, role):
    browser = signed_in(role)
    assert 'hx-get="/?part=operations" hx-trigger="load"' in browser.get("/").content.decode()
    cards = browser.get("/?part=operations", HTTP_HX_REQUEST="true").content.decode()
    assert cards.lstrip().startswith('<div id="operations"') and "<html" not in cards
    assert 'data-card="health"' in cards and 'data-card="queues"' in cards
    for part in ("database", "cache", "channel_layer", "celery_broker"):
        assert f'data-part="{part}"' in cards
    assert " ms</td>" in cards and f'data-live-events="{sampling.EVENT}"' in cards


@pytest.mark.parametrize("role", [FINANCE, SUPPORT])
def test_finance_and_support_see_no_operations_cards(signed_in, role):
    browser = signed_in(role)
    assert "part=operations" not in browser.get("/").content.decode()
    assert browser.get("/?part=operations", HTTP_HX_REQUEST="true").status_code == 403


def test_without_a_broker_the_queue_card_says_tasks_run_in_process(signed_in):
    TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="OSError: down")
    TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="OSError: down",
                               failed_at=timezone.now() - timedelta(hours=25))
    cards = signed_in(TECHNICIAN).get("/?part=operations").content.decode()
    assert "tasks run in-process" in cards and "Workers alive" not in cards
    assert "Failed jobs in the last 24 h: <strong>1</strong>" in cards


def test_the_sampler_stores_the_customers_online_once_per_run(admin_client):
    open_session("wambui", 1)
    open_session("wambui", 2)  # a second device: still one customer
    open_session("otieno")
    open_session("akinyi", stopped=True)
    call_command("sample_users_online", stdout=open("/dev/null", "w"))
    assert list(UsersOnlineSample.objects.values_list("users", flat=True)) == [2]
    tasks.sample_users_online.delay()  # the beat's task, the same run
    assert UsersOnlineSample.objects.count() == 2
    html = admin_client.get("/").content.decode()
    assert '<div class="card stat" data-stat="users-online">' in html and '<div class="value">2</div>' in html
    assert "Customers online, last 24 hours" in html and 'data-report-chart="users-online-data"' in html
    assert 'data-figure="users-online-peak">peak 2 at ' in html
    chart = admin_client.get("/?part=users-online", HTTP_HX_REQUEST="true").content.decode()
    assert chart.lstrip().startswith('<section id="users-online"') and ', 2.0]' in chart and 'null' in chart


def test_the_beat_runs_the_sampler_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["sample-users-online"]
    assert entry == {"task": "monitoring.tasks.sample_users_online", "schedule": 300.0}


def test_samples_past_retention_are_removed_by_the_same_run():
    kept = make_sample(5, timedelta(days=settings.USERS_ONLINE_RETENTION_DAYS - 1))
    make_sample(7, timedelta(days=settings.USERS_ONLINE_RETENTION_DAYS, minutes=1))
    done = sampling.sample_users_online()
    assert done.removed == 1 and settings.USERS_ONLINE_RETENTION_DAYS == 90
    newest = UsersOnlineSample.objects.first()
    assert set(UsersOnlineSample.objects.values_list("pk", flat=True)) == {kept.pk, newest.pk}


def test_the_chart_keeps_each_hours_peak_and_shows_hours_without_samples():
    from monitoring.dashboard import users_online_chart

    # Half past the hour: samples a minute or two before "now" are in this hour's bar whenever the
    # test runs (at 16:01 they would be 15:59's).
    now = timezone.now().replace(minute=30)
    make_sample(3, timedelta(minutes=1), now)
    make_sample(9, timedelta(minutes=2), now)
    make_sample(4, timedelta(hours=30), now)  # older than the chart
    series = users_online_chart(now=now)
    assert len(series) == 24 and series[-1]["users"] == 9 and series[-1]["percent"] == 100
    assert series[0]["users"] is None and series[0]["percent"] == 0


@pytest.mark.parametrize("rows", [2, 40])
def test_the_admin_dashboard_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries, rows):
    for i in range(rows):
        open_session(f"user{i}")
        make_sample(i, timedelta(minutes=5 * i))
    # session, user, 2x permissions, five card groups (customers online the fifth), 30-day revenue
    # (the rollup, today's payments), recent payments, the users-online chart, session save (3).
    with django_assert_num_queries(17):
        admin_client.get("/")
    with django_assert_num_queries(12):  # the live refresh of the figure cards
        admin_client.get("/", HTTP_HX_REQUEST="true")
    # The chart's refresh: session, user, 2x permissions, the chart, session save (3).
    with django_assert_num_queries(8):
        admin_client.get("/?part=users-online", HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("failures", [2, 40])
def test_the_operations_cards_run_a_fixed_number_of_queries(signed_in, django_assert_num_queries, failures):
    TaskFailure.objects.bulk_create([TaskFailure(task_name="t", exception="E") for _ in range(failures)])
    browser = signed_in(TECHNICIAN)
    # session, user, 2x permissions, the database check, the failures of the last 24 h, session save (3).
    with django_assert_num_queries(9):
        browser.get("/?part=operations", HTTP_HX_REQUEST="true")


@pytest.fixture
def nas():
    with NasSimulator(secret=SECRET.encode()) as simulator:
        radius.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=simulator.port)
        yield simulator


@pytest.mark.django_db(transaction=True)  # the consumer reads the session from its own connection
def test_a_staff_disconnect_reaches_the_admins_and_the_customers_page(signed_in, nas):
    customer = Customer.objects.create(phone="254712345678", username="wambui")
    session = open_session("wambui")
    browser = signed_in(SUPPORT)

    @async_to_sync
    async def run():
        layer = get_channel_layer()
        customers_page = await layer.new_channel()
        await layer.group_add(live.customer_group(customer.pk), customers_page)
        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"),
                   (b"cookie", f"{settings.SESSION_COOKIE_NAME}={browser.session.session_key}".encode())]
        ws = WebsocketCommunicator(application, "/ws/admin/", headers=headers)
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from(timeout=3)  # live.connected
        await database_sync_to_async(browser.post)(f"/radius/sessions/{session.pk}/disconnect/")
        try:
            admins = await ws.receive_json_from(timeout=3)
            for_customer = live.events_in(await layer.receive(customers_page))
        finally:
            await ws.disconnect()
            await layer.group_discard(live.customer_group(customer.pk), customers_page)
        return admins, for_customer

    admins, for_customer = run()
    expected = {"username": "wambui", "reason": "disconnect", "customer": customer.pk}
    assert admins == {"event": "session.disconnected", "data": expected}
    assert for_customer == [{"event": "session.disconnected", "data": expected}]


def disconnections_reaching(groups, action):
    """The session.disconnected events that ``groups`` receive while ``action`` runs (with its
    after-commit work), as (group, data) pairs."""
    @async_to_sync
    async def run():
        layer = get_channel_layer()
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        try:
            await sync_to_async(action)()  # in this thread: the test's transaction and data
            got = []
            for group, channel in channels.items():
                try:
                    while True:
                        message = await asyncio.wait_for(layer.receive(channel), timeout=1)
                        got += [(group, e["data"]) for e in live.events_in(message)
                                if e["event"] == "session.disconnected"]
                except TimeoutError:
                    pass
            return got
        finally:
            for group, channel in channels.items():
                await layer.group_discard(group, channel)
    return run()


def test_an_expirys_disconnect_reaches_the_admins_and_the_customers_page(nas, django_capture_on_commit_callbacks):
    person = hotspot.create_customer("0712 000 001")
    daily = hotspot.save_package(Package(name="Daily", price=50, validity_minutes=1440))
    now = timezone.now()
    subscriptions.activate(person, daily, "payment", now=now - timedelta(days=1))
    open_session(person.username)

    def expire():
        with django_capture_on_commit_callbacks(execute=True):
            subscriptions.expire_due(now=now)

    got = disconnections_reaching([live.ADMIN, live.customer_group(person.pk)], expire)
    expected = {"username": person.username, "reason": "expiry", "customer": person.pk}
    assert got == [(live.ADMIN, expected), (live.customer_group(person.pk), expected)]


def test_an_api_kick_reaches_the_admins_and_the_customers_page(kilimani, technician,
                                                                django_capture_on_commit_callbacks):
    customer = Customer.objects.create(phone="254712345678", username="wambui")
    router = make_router(kilimani)
    kilimani.login_hotspot("wambui")

    def kick():
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.kick(router, kind="hotspot", user="wambui", by=technician) == 1
            assert actions.kick(router, kind="hotspot", user="wambui", by=technician) == 0  # nothing ended

    got = disconnections_reaching([live.ADMIN, live.customer_group(customer.pk)], kick)
    expected = {"username": "wambui", "reason": "kick", "customer": customer.pk}
    assert got == [(live.ADMIN, expected), (live.customer_group(customer.pk), expected)]


def test_a_refused_disconnect_announces_nothing(nas, django_capture_on_commit_callbacks):
    from radius import coa
    from radius.nas_simulator import NAK

    nas.default = NAK

    def refused():
        with django_capture_on_commit_callbacks(execute=True):
            coa.disconnect(open_session("ghost"))

    assert disconnections_reaching([live.ADMIN], refused) == []


@pytest.fixture
def broker():
    """Tasks go to the broker (the suite's Redis), as in production, with no worker to take them."""
    from celery import current_app

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    try:
        yield current_app
    finally:
        current_app.conf.task_always_eager = eager
        with current_app.connection_for_write() as connection:
            connection.default_channel.queue_purge("default")


def test_with_a_broker_the_queue_card_counts_waiting_messages_and_workers(signed_in, broker):
    tasks.sample_users_online.apply_async(queue="default")
    cards = signed_in(ADMIN).get("/?part=operations").content.decode()
    assert "in-process" not in cards
    assert '<tr data-queue="default"><td>default</td><td class="num">1</td></tr>' in cards
    assert "Workers alive: <strong>0</strong>" in cards and "none answered" in cards


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)  # the served app reads what the test writes
@pytest.mark.parametrize("width", [1280, 390])
def test_in_a_browser_the_cards_load_after_the_page_and_follow_the_sampler(served, chromium, admin, width):
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", admin.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")
    page.wait_for_selector('[data-card="queues"]', timeout=10_000)  # loaded by htmx after the page
    assert page.locator('[data-part="database"] .badge').inner_text() == "up"
    assert "in-process" in page.locator('[data-card="queues"]').inner_text()
    assert page.locator('[data-stat="users-online"] .value').inner_text() == "0"
    page.wait_for_selector('[data-live-indicator][data-state="connected"]', timeout=10_000)

    open_session("wambui")
    elsewhere(sampling.sample_users_online)  # the 5-minute job: commits, then publishes

    page.wait_for_function(
        "() => document.querySelector('[data-stat=\"users-online\"] .value').textContent.trim() === '1'",
        timeout=10_000)
    page.wait_for_function(
        # The table is swapped whole by the live refresh: between two swaps it may hold no cell yet.
        "() => ([...document.querySelectorAll('#users-online tbody td.num')].pop()?.textContent || '').trim() === '1'",
        timeout=10_000)
    assert page.locator('[data-card="health"]').is_visible()
    page.screenshot(path=SCREENSHOTS / f"dashboard-cards-{width}.png", full_page=True)
    page.close()


@pytest.mark.django_db
def test_a_backfill_draws_the_past_day_from_the_accounting_and_only_once():
    now = timezone.now()
    RadAcct.objects.bulk_create([
        RadAcct(acct_session_id="a", acct_unique_id="a", username="amina", nas_ip_address="127.0.0.1",
                acct_start_time=now - timedelta(hours=3), acct_stop_time=now - timedelta(hours=1)),
        RadAcct(acct_session_id="b", acct_unique_id="b", username="baraka", nas_ip_address="127.0.0.1",
                acct_start_time=now - timedelta(hours=2)),
        RadAcct(acct_session_id="c", acct_unique_id="c", username="baraka", nas_ip_address="127.0.0.1",
                acct_start_time=now - timedelta(hours=2))])  # a second device: still one customer
    assert sampling.backfill(now=now) == 24 * 12
    at = {round((now - s.at).total_seconds() / 3600, 2): s.users for s in UsersOnlineSample.objects.all()}
    assert at[4.0] == 0 and at[2.5] == 1 and at[1.5] == 2 and at[0.5] == 1
    assert sampling.backfill(now=now) == 0  # samples there already: nothing drawn twice
