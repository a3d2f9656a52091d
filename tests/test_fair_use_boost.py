"""Boosts (issue 20): a package of kind boost adds data, or full speed, to the running plan. Bought
through the Daraja simulator's callbacks (duplicates and all), the live session gets its full rate
back by CoA-Request on the NAS simulator and the next sign-in through real FreeRADIUS carries it; a
customer with nothing running is refused before any prompt."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import Entry
from billing import payments
from billing.models import LedgerEntry, MpesaCallback, Payment
from hotspot import services, subscriptions
from hotspot.models import Boost, Package, Subscription
from radius import fair_use
from radius.models import CoaAttempt, DataBoost, RadAcct, SessionSlowdown
from radius.nas_simulator import NasSimulator

from .payments_kit import PHONE, settled, wait_for
from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS and the callbacks' thread read committed rows
SECRET = "kilimani-coa-secret"
MB = 2**20


@pytest.fixture
def nas():
    with NasSimulator(secret=SECRET.encode()) as simulator:
        from radius import services as radius

        radius.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=simulator.port)
        yield simulator


def plan(name="Weekly FUP"):
    return services.save_package(Package(
        name=name, price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        after_allowance="throttle", fup_rate_limit="512k/512k", devices=2))  # a phone online, a laptop signing in


def boost(megabytes=500, name="Boost 500 MB", minutes=1440):
    return services.save_package(Package(name=name, kind="boost", price=50, validity_minutes=minutes,
                                         data_limit_mb=megabytes))


def subscribed(package, phone=PHONE):
    person = services.create_customer(phone)
    subscriptions.activate(person, package, "payment", now=timezone.now() - timedelta(minutes=10))
    return person


def left(person) -> str:
    """What FreeRADIUS's allowance check answers for the user now (radius_data_allowance)."""
    since = int(Subscription.objects.get(customer=person, status="active").starts_at.timestamp())
    with connection.cursor() as cursor:
        cursor.execute("SELECT radius_data_allowance(%s, %s, %s, 0, 'UTC')", [person.username, since, 100 * MB])
        return cursor.fetchone()[0]


def test_a_boost_paid_with_twenty_duplicate_callbacks_adds_once_and_restores_full_speed(mpesa, radius_server, nas):
    person = subscribed(plan())
    radius_server.account("Start", person.username, "b-1", Framed_IP_Address="10.5.50.31")
    radius_server.account("Interim-Update", person.username, "b-1", Acct_Input_Octets=10 * MB,
                          Acct_Output_Octets=100 * MB, Acct_Session_Time=60, Framed_IP_Address="10.5.50.31")
    [slowed] = fair_use.slow_down_crossed()
    assert slowed.applied and slowed.attributes["Mikrotik-Rate-Limit"] == "512k/512k"
    throttled = radius_server.authenticate(person.username, person.password)
    assert reply_value(throttled, "Mikrotik-Rate-Limit") == "512k/512k"

    mpesa.script(PHONE, callbacks=20)
    payment = settled(payments.start_stk(phone=PHONE, package=boost()))
    wait_for(lambda: MpesaCallback.objects.exclude(outcome="received").count() == 20)
    assert payment.status == Payment.Status.COMPLETED and payment.customer == person
    assert payment.subscription == Subscription.objects.get(customer=person)  # boosted, no new subscription
    [added] = Boost.objects.all()
    assert added.megabytes == 500 and added.subscription == payment.subscription
    assert DataBoost.objects.get().extra_bytes == 500 * MB
    assert payments.balance(person) == 0  # paid once, spent once
    assert Entry.objects.get(action="boosted").note.startswith("Boost 500 MB: +500 MB until ")

    # The live session: its claim given back and its full rate restored by one CoA-Request.
    wait_for(lambda: len(nas.received) == 2)
    restore = nas.received[1]
    assert restore.kind == "coa" and restore.attributes["Mikrotik-Rate-Limit"] == "3M/6M"
    assert restore.attributes["Acct-Session-Id"] == "b-1"
    stored = wait_for(lambda: CoaAttempt.objects.filter(requested_by="boost").first())
    assert stored.outcome == "ack" and stored.applied
    assert not SessionSlowdown.objects.exists()
    assert Entry.objects.get(action="sped_up").note == "to 3M/6M: ack"
    assert fair_use.slow_down_crossed() == []  # 110 MB of 600: not slowed again
    again = radius_server.authenticate(person.username, person.password)
    assert accepted(again) and reply_value(again, "Mikrotik-Rate-Limit") == "3M/6M"
    assert len(nas.received) == 2


def test_boosts_stack_end_with_their_time_and_full_speed_lifts_the_cap(nas):
    person = subscribed(plan(), phone="0712 000 801")
    RadAcct.objects.create(acct_session_id="s-1", acct_unique_id="u-s-1", username=person.username,
                           nas_ip_address="127.0.0.1", acct_start_time=timezone.now() - timedelta(minutes=5),
                           acct_update_time=timezone.now(), acct_input_octets=0, acct_output_octets=150 * MB)
    assert left(person) == "0 0 period"
    subscriptions.activate(person, boost(40), "wallet")
    assert left(person) == "0 0 period"  # 140 MB of 150 used: still slow
    subscriptions.activate(person, boost(60, name="Boost 60 MB", minutes=60), "wallet")
    assert left(person) == f"{50 * MB} 0 period"  # 100 + 40 + 60 - 150
    assert Boost.objects.get(package__name="Boost 60 MB").until <= timezone.now() + timedelta(minutes=60)
    DataBoost.objects.filter(extra_bytes=60 * MB).update(until=timezone.now() - timedelta(seconds=1))
    assert left(person) == "0 0 period"  # the hour's boost is over
    subscriptions.activate(person, boost(None, name="Full speed 2 hours", minutes=120), "wallet")
    assert left(person) == "1099511627776 0 period"
    assert fair_use.slow_down_crossed() == []


def test_a_boost_lasts_no_longer_than_the_plan_and_ends_with_it(nas):
    person = subscribed(plan(), phone="0712 000 802")
    running = Subscription.objects.get(customer=person)
    subscriptions.activate(person, boost(minutes=30 * 1440), "wallet")
    assert Boost.objects.get().until == running.expires_at
    # The next plan's allowance counts afresh: the boost belonged to the one it was bought for.
    assert DataBoost.objects.get().since == int(running.starts_at.timestamp())


def test_a_customer_without_a_running_plan_cannot_buy_a_boost(client, mpesa):
    extra = boost()
    refused = client.post("/api/purchase/mpesa/initiate", {"package_id": extra.pk, "phone": PHONE},
                          content_type="application/json")
    assert refused.status_code == 409 and refused.json()["reason"] == "needs_subscription"
    assert not Payment.objects.exists()  # refused before any prompt
    person = subscribed(plan())
    Subscription.objects.filter(customer=person).update(status="expired")
    again = client.post("/api/purchase/mpesa/initiate", {"package_id": extra.pk, "phone": PHONE},
                        content_type="application/json")
    assert again.status_code == 409 and again.json()["reason"] == "needs_subscription"
    payments.post_to_wallet(person, [LedgerEntry(customer=person, amount=100, kind="adjustment",
                                                          description="test top-up")], "test")
    wallet = client.post("/api/purchase/package", {"package_id": extra.pk, "phone": PHONE,
                                                   "password": person.password}, content_type="application/json")
    assert wallet.status_code == 409 and wallet.json()["reason"] == "needs_subscription"
    assert payments.balance(person) == 100 and not Boost.objects.exists()
    # The portal never offers a boost as a first purchase, and says why when one is posted anyway.
    page = client.get("/portal/").content.decode()
    assert "Weekly FUP" in page and extra.name not in page
    posted = client.post("/portal/buy/", {"package": extra.pk, "phone": PHONE})
    assert posted.status_code == 409 and "buy a package first" in posted.content.decode()

    # The plan ended between the prompt and the payment: the money stays in the wallet.
    paid = settled(payments.start_stk(phone=PHONE, package=extra))
    assert paid.status == Payment.Status.COMPLETED and paid.subscription is None
    assert payments.balance(person) == Decimal("150.00") and not Boost.objects.exists()


def test_a_boost_package_has_no_fair_use_policy_of_its_own_and_keeps_its_kind(db):
    with pytest.raises(services.PackageError, match="no daily allowance"):
        services.save_package(Package(name="Odd boost", kind="boost", price=50, validity_minutes=60,
                                      data_limit_mb=100, after_allowance="throttle", fup_rate_limit="1M/1M"))
    weekly = plan()
    subscribed(weekly, phone="0712 000 803")
    weekly.kind = "boost"
    with pytest.raises(services.PackageError, match="Customers have bought"):
        services.save_package(weekly)
