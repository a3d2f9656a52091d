"""What the customer is shown of fair use (issue 20): used and left in the period and today, the speed
now, and boosts on sale once slowed (hotspot.fair_use.standing), counted as FreeRADIUS counts them
(radius_data_allowance), on the account page and the portal's status page."""
import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Entry
from billing import payments
from billing.models import LedgerEntry, Payment
from hotspot import fair_use, services, subscriptions
from hotspot.models import Boost, Package, Subscription
from hotspot.portal import status_token
from radius.models import DataBoost, RadAcct

from .payments_kit import PHONE

pytestmark = pytest.mark.django_db(transaction=True)
MB = 2**20
HOME = "/portal/account/"


def plan(daily_mb=None):
    return services.save_package(Package(
        name="Weekly FUP", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        daily_data_limit_mb=daily_mb, after_allowance="throttle", fup_rate_limit="512k/512k"))


def boost(megabytes=500, name="Boost 500 MB", price=50):
    return services.save_package(Package(name=name, kind="boost", price=price, validity_minutes=1440,
                                         data_limit_mb=megabytes))


def subscribed(package, phone=PHONE, started=timedelta(days=2)):
    person = services.create_customer(phone)
    subscriptions.activate(person, package, "payment", now=timezone.now() - started)
    return person


def used(person, megabytes, ago):
    """A session of ``person`` that started ``ago`` and moved ``megabytes``."""
    start = timezone.now() - ago
    RadAcct.objects.create(acct_session_id=f"s-{RadAcct.objects.count()}", acct_unique_id=f"u-{start.timestamp()}",
                           username=person.username, nas_ip_address="127.0.0.1", acct_start_time=start,
                           acct_update_time=start, acct_input_octets=megabytes * MB // 4,
                           acct_output_octets=megabytes * MB - megabytes * MB // 4)


def freeradius_left(person, package) -> str:
    """What FreeRADIUS's check answers for the user now: bytes left of the binding allowance."""
    since = int(Subscription.objects.get(customer=person, status="active").starts_at.timestamp())
    with connection.cursor() as cursor:
        cursor.execute("SELECT radius_data_allowance(%s, %s, %s, %s, %s)",
                       [person.username, since, (package.data_limit_mb or 0) * MB,
                        (package.daily_data_limit_mb or 0) * MB, "UTC"])
        return int(cursor.fetchone()[0].split(" ")[0])


def now_of(person):
    return fair_use.standing(Subscription.objects.select_related("package", "customer").get(customer=person))


def since_midnight() -> timedelta:
    """How long today (UTC) has run: sessions placed before it are yesterday's, within it today's."""
    return timezone.now() - datetime.combine(timezone.now().astimezone(UTC).date(), datetime.min.time(), UTC)


# --- the figures ------------------------------------------------------------------------------------

def test_the_period_allowance_under_then_over_then_boosted(settings):
    settings.TIME_ZONE = "UTC"
    package = plan()
    person = subscribed(package)
    used(person, 30, ago=timedelta(days=1))
    used(person, 50, ago=timedelta(hours=1))
    under = now_of(person)
    assert (under.period_used, under.period_left, under.day_left) == (80 * MB, 20 * MB, None)
    assert under.period_left == freeradius_left(person, package)
    assert not under.slowed and under.near and under.rate == "3M/6M" and under.speed == "6 Mbit/s"

    used(person, 25, ago=timedelta(minutes=1))
    over = now_of(person)
    assert over.period_used == 105 * MB and over.period_left == 0 == freeradius_left(person, package)
    assert over.slowed and over.rate == "512k/512k" and over.speed == "512 kbit/s"

    subscriptions.activate(person, boost(), "wallet")
    boosted = now_of(person)
    assert boosted.period_left == 495 * MB == freeradius_left(person, package)
    assert not boosted.slowed and not boosted.near and boosted.rate == "3M/6M"

    # A boost of another allowance (the plan before) or one whose time is up counts for nothing.
    DataBoost.objects.update(until=timezone.now() - timedelta(seconds=1))
    assert now_of(person).slowed and freeradius_left(person, package) == 0


def test_the_daily_allowance_counts_since_local_midnight_and_full_speed_lifts_both(settings):
    settings.TIME_ZONE = "UTC"
    package = plan(daily_mb=40)
    person = subscribed(package)
    today = since_midnight()
    used(person, 35, ago=today + timedelta(hours=3))  # yesterday: the period's only
    used(person, 20, ago=today / 2)
    under = now_of(person)
    assert (under.period_used, under.day_used) == (55 * MB, 20 * MB)
    assert (under.period_left, under.day_left) == (45 * MB, 20 * MB)
    assert not under.slowed and not under.near  # half the day, 55 % of the period
    assert min(under.period_left, under.day_left) == freeradius_left(person, package)

    used(person, 25, ago=today / 3)
    over = now_of(person)
    assert over.day_left == 0 and over.period_left == 20 * MB and over.slowed
    assert freeradius_left(person, package) == 0 and over.speed == "512 kbit/s"

    subscriptions.activate(person, boost(None, name="Full speed 2 h"), "wallet")
    fast = now_of(person)
    assert not fast.slowed and fast.rate == "3M/6M" and fast.fast_until == Boost.objects.get().until
    assert freeradius_left(person, package) == 2**40  # FreeRADIUS's "plenty"


def test_the_daily_allowance_starts_again_at_midnight_in_the_business_zone_with_the_clock_controlled():
    from siteconfig import store, time_zone

    store.save("general", {"time_zone": "Africa/Nairobi"})  # UTC+3: its midnight is 21:00 UTC
    zone = time_zone.current()
    package = plan(daily_mb=40)
    person = subscribed(package, started=timedelta(days=3))
    midnight = timezone.localtime(timezone=zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(minutes=10)  # 23:50 local, 20:50 UTC: the same UTC day as the next minutes
    RadAcct.objects.create(acct_session_id="late", acct_unique_id="u-late", username=person.username,
                           nas_ip_address="127.0.0.1", acct_start_time=start, acct_update_time=start,
                           acct_stop_time=start + timedelta(minutes=9), acct_input_octets=0,
                           acct_output_octets=45 * MB)
    subscription = Subscription.objects.select_related("package", "customer").get(customer=person)
    before = fair_use.standing(subscription, now=midnight - timedelta(minutes=1))
    assert (before.day_used, before.day_left, before.slowed) == (45 * MB, 0, True)
    after = fair_use.standing(subscription, now=midnight + timedelta(minutes=1))
    assert (after.day_used, after.day_left, after.period_used) == (0, 40 * MB, 45 * MB)
    assert not after.slowed and after.rate == "3M/6M"


def test_a_package_without_an_allowance_has_nothing_to_show_and_block_is_never_slowed():
    person = subscribed(services.save_package(Package(name="Unlimited", price=50, validity_minutes=1440,
                                                      rate_limit="2M/5M")))
    assert now_of(person) is None
    cut = services.save_package(Package(name="Cut 100", price=50, validity_minutes=1440, data_limit_mb=100))
    other = subscribed(cut, phone="0712 000 871")
    used(other, 150, ago=timedelta(minutes=5))
    standing = now_of(other)
    assert standing.period_left == 0 and not standing.slowed and not standing.near and standing.speed == ""


# --- the pages --------------------------------------------------------------------------------------

@pytest.fixture
def throttled():
    person = subscribed(plan(daily_mb=1024))
    used(person, 120, ago=timedelta(minutes=5))
    return person


def signed_in(client, person):
    response = client.post("/portal/account/sign-in/", {"phone": "0712 345 678", "password": person.password})
    assert response.status_code == 302
    return client


def test_a_throttled_customer_sees_the_figures_the_speed_and_boosts_and_buys_one_from_the_wallet(
        client, throttled, django_assert_num_queries):
    extra, fast = boost(), boost(None, name="Full speed 2 h", price=80)
    services.save_package(Package(name="Old boost", kind="boost", price=20, validity_minutes=60, data_limit_mb=10,
                                  is_active=False))
    payments.post_to_wallet(throttled, [LedgerEntry(customer=throttled, amount=60, kind="adjustment",
                                                    description="test top-up")], "test")
    signed = signed_in(client, throttled)
    page = signed.get(HOME, HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip" and len(page.content) < 30 * 1024
    html = gzip.decompress(page.content).decode()
    assert "This package: used 120.0\xa0MB · 0\xa0bytes left" in html
    assert "Today: used 120.0\xa0MB · 904.0\xa0MB left" in html
    assert 'data-slowed="1">512 kbit/s</span>' in html and "Slowed down: your data allowance is used up" in html
    assert "Buy a boost" in html and "Old boost" not in html
    assert html.index("Boost 500 MB") < html.index("Full speed 2 h")  # cheapest first
    assert f'action="/portal/account/boosts/{extra.pk}/buy/"' in html and f"/boosts/{fast.pk}/buy/" in html
    assert "+500 MB · Paid from your balance" in html and "full speed · Paid by an M-Pesa prompt" in html
    sw = signed.get(f"{HOME}?lang=sw").content.decode()
    assert "Nunua nyongeza" in sw and "Kasi imepunguzwa" in sw and "Leo: umetumia" in sw
    signed.get(f"{HOME}?lang=en")  # the choice is remembered: back to English

    # A plan, not a boost, cannot be bought through the boost form; then the boost, from the wallet.
    plan_id = Subscription.objects.get(customer=throttled).package_id
    refused = signed.post(f"{HOME}boosts/{plan_id}/buy/")
    assert refused.status_code == 404 and "no longer on sale" in refused.content.decode()
    assert signed.post(f"{HOME}boosts/999999/buy/").status_code == 404
    bought = signed.post(f"{HOME}boosts/{extra.pk}/buy/")
    assert bought.status_code == 303 and bought["Location"] == HOME
    boost_paid = Payment.objects.get(package=extra)
    assert boost_paid.status == Payment.Status.COMPLETED
    assert payments.balance(throttled) == Decimal("10.00")
    entry = Entry.objects.get(object_type="billing.payment", object_id=str(boost_paid.pk), action="credited")
    assert (entry.actor_kind, entry.actor_id) == ("customer", str(throttled.pk))  # the customer bought it
    # A fair-use plan adds two aggregates (sessions, boosts) to tests/test_portal_account.py's pin; the
    # boosts on sale are asked for only while slowed or near, as before the boost above.
    with django_assert_num_queries(15):
        after = signed.get(HOME).content.decode()
    assert 'data-slowed="0">6 Mbit/s</span>' in after and "Full speed" in after and "Buy a boost" not in after
    assert "This package: used 120.0\xa0MB · 480.0\xa0MB left" in after


def test_the_status_page_shows_the_figures_and_speed_in_english_and_kiswahili(client, throttled):
    token = status_token(throttled.username)
    html = client.get(f"/portal/status/?t={token}").content.decode()
    assert "This package: used 120.0\xa0MB · 0\xa0bytes left" in html
    assert 'data-slowed="1">512 kbit/s</span>' in html and "Data left" not in html
    assert "Buy a boost" not in html  # none on sale: nothing to lead to
    extra = boost()
    html = client.get(f"/portal/status/?t={token}").content.decode()
    # Slowed with a boost on sale: "Buy a boost", leading to the account page's boosts.
    assert "<h2>Buy a boost</h2>" in html and 'href="/portal/account/?lang=en#boost-h">Buy a boost</a>' in html
    sw = client.get(f"/portal/status/?t={token}&lang=sw").content.decode()
    assert "Kasi sasa" in sw and "Kasi imepunguzwa" in sw
    assert 'href="/portal/account/?lang=sw#boost-h">Nunua nyongeza</a>' in sw and "Ingia kwenye Akaunti yangu" in sw
    subscriptions.activate(throttled, extra, "wallet")
    boosted = client.get(f"/portal/status/?t={token}&lang=en").content.decode()
    assert 'data-slowed="0">6 Mbit/s</span>' in boosted and "Buy a boost" not in boosted
