"""Dashboard figures: computed from real rows, in Nairobi time, trimmed to the viewer's role."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.models import Payment, PaymentDay
from hotspot.models import Customer, Package, Subscription
from monitoring.dashboard import revenue_days, stats_for
from routers.models import Router

pytestmark = pytest.mark.django_db
NAIROBI = ZoneInfo("Africa/Nairobi")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=NAIROBI)


def make_package(name="Daily", price="50", minutes=1440):
    return Package.objects.create(name=name, price=Decimal(price), validity_minutes=minutes)


def make_customer(phone):
    return Customer.objects.create(phone=phone, name=f"Customer {phone[-3:]}")


def make_subscription(customer, package, expires_at, status=Subscription.Status.ACTIVE):
    return Subscription.objects.create(customer=customer, package=package, status=status,
                                       starts_at=expires_at - timedelta(days=1), expires_at=expires_at)


def pay(amount, at, status=Payment.Status.COMPLETED):
    return Payment.objects.create(amount=Decimal(amount), method=Payment.Method.MPESA_STK, status=status,
                                  created_at=at, completed_at=at if status == Payment.Status.COMPLETED else None)


@pytest.fixture
def business():
    package = make_package()
    people = [make_customer(f"25471100000{i}") for i in range(3)]
    make_subscription(people[0], package, NOW + timedelta(hours=5))
    make_subscription(people[1], package, NOW + timedelta(days=3))
    make_subscription(people[2], package, NOW - timedelta(minutes=1))  # due but not yet swept
    make_subscription(people[2], package, NOW - timedelta(days=2), Subscription.Status.EXPIRED)
    pay("50", datetime(2026, 11, 23, 0, 30, tzinfo=NAIROBI))
    pay("10", datetime(2026, 11, 23, 8, 59, tzinfo=NAIROBI))
    pay("250", datetime(2026, 11, 22, 23, 30, tzinfo=NAIROBI))  # yesterday, though 20:30 UTC
    pay("800", datetime(2026, 10, 31, 23, 59, tzinfo=NAIROBI))  # last month
    pay("20", datetime(2026, 11, 23, 7, 0, tzinfo=NAIROBI), Payment.Status.FAILED)
    Router.objects.create(name="A", host="10.8.0.2", status=Router.Status.ONLINE)
    Router.objects.create(name="B", host="10.8.0.3", status=Router.Status.ONLINE)
    Router.objects.create(name="C", host="10.8.0.4", status=Router.Status.OFFLINE)


def test_the_figures_count_what_is_true_now(business, admin):
    stats = stats_for(admin, now=NOW)
    assert stats.customers == 3
    assert stats.active_subscriptions == 2
    assert stats.revenue_today == Decimal("60")
    assert stats.revenue_month == Decimal("310")
    assert (stats.routers_online, stats.routers_total) == (2, 3)


def test_each_role_sees_only_its_figures(business, finance_clerk, technician, support_agent):
    finance = stats_for(finance_clerk, now=NOW)
    assert finance.revenue_month == Decimal("310") and finance.routers_total is None
    tech = stats_for(technician, now=NOW)
    assert tech.routers_online == 2 and tech.revenue_today is None and tech.customers is None
    support = stats_for(support_agent, now=NOW)
    assert support.customers == 3 and support.revenue_today is None


def test_the_30_day_revenue_reads_closed_days_from_the_rollup_and_today_live(business):
    # The rollup's rows for closed days (what billing.payment_rollup wrote), net of refunds, no wallet.
    PaymentDay.objects.create(day=NOW.date() - timedelta(days=1), method=Payment.Method.MPESA_STK, payments=2,
                              amount=Decimal("300"), refunds=1, refunded=Decimal("50"))
    PaymentDay.objects.create(day=NOW.date() - timedelta(days=1), method=Payment.Method.WALLET, payments=1,
                              amount=Decimal("99"))
    PaymentDay.objects.create(day=NOW.date() - timedelta(days=30), method=Payment.Method.CASH, payments=1,
                              amount=Decimal("70"))  # a day before the 30

    table = revenue_days(now=NOW)

    assert len(table.rows) == 30 and table.rows[0][0] == NOW.date() - timedelta(days=29)
    assert table.rows[-2][1] == Decimal("250.00")  # from the rollup, not the 250 paid at 23:30 that day
    assert table.rows[-1] == (NOW.date(), Decimal("60.00"))  # today's completed payments, live
    assert table.chart_data()["series"][0]["values"][-2:] == [250.0, 60.0]


def test_the_page_shows_the_cards(admin_client):
    Customer.objects.create(phone="254722000111")
    html = admin_client.get("/").content.decode()
    for card in ("customers", "active-subscriptions", "revenue-today", "revenue-month", "routers-online"):
        assert f'data-stat="{card}"' in html
    assert 'data-live-events="customer.created' in html and "/static/js/live.js" in html


def test_an_htmx_refresh_renders_only_the_cards(admin_client):
    response = admin_client.get("/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="stats"') and "<html" not in html


def test_the_dashboard_runs_a_fixed_number_of_queries(admin_client, django_assert_num_queries):
    # session, user, 2x permissions, one per card group (customers online the fifth), session save (3).
    with django_assert_num_queries(12):
        admin_client.get("/", HTTP_HX_REQUEST="true")
    package = make_package()
    for i in range(20):
        customer = make_customer(f"2547120000{i:02d}")
        make_subscription(customer, package, timezone.now() + timedelta(hours=1))
        pay("50", timezone.now())
    with django_assert_num_queries(12):
        admin_client.get("/", HTTP_HX_REQUEST="true")
    # The full page adds the 30-day revenue (the rollup and today's payments), the recent payments
    # and the users-online chart.
    with django_assert_num_queries(17):
        admin_client.get("/")
