"""Fair use at sign-in, through real FreeRADIUS 3.2: a customer over a package's allowance is slowed
down (accepted at the fair-use rate) or cut off (rejected), by the period's and by the day's
allowance, and the day's starts again at midnight in the business's time zone."""
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from hotspot import services, subscriptions
from hotspot.models import Package
from radius.models import RadAcct
from siteconfig import time_zone

from .radius_server import accepted, reply_value

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS reads committed rows
MB = 2**20


def package(after="throttle", data_mb=None, daily_mb=None, name="Weekly FUP"):
    return services.save_package(Package(
        name=name, price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=data_mb,
        daily_data_limit_mb=daily_mb, after_allowance=after, fup_rate_limit="512k/512k" if after == "throttle" else ""))


def subscribed(plan, phone="0712 000 101", started=None):
    person = services.create_customer(phone)
    subscriptions.activate(person, plan, "payment", now=started or timezone.now() - timedelta(hours=2))
    return person


def used(person, megabytes, started, session="s-1"):
    """A finished session that moved ``megabytes`` (as FreeRADIUS records it), started at ``started``."""
    octets = megabytes * MB
    RadAcct.objects.create(acct_session_id=session, acct_unique_id=f"{person.username}-{session}",
                           username=person.username, nas_ip_address="127.0.0.1", acct_start_time=started,
                           acct_update_time=started, acct_stop_time=started + timedelta(minutes=5),
                           acct_input_octets=octets // 10, acct_output_octets=octets - octets // 10)


def local_midnight() -> datetime:
    zone = time_zone.current()
    return timezone.localtime(timezone=zone).replace(hour=0, minute=0, second=0, microsecond=0)


def test_over_the_allowance_a_throttle_package_is_accepted_at_the_fair_use_rate(radius_server):
    person = subscribed(package(data_mb=100))
    used(person, 60, timezone.now() - timedelta(hours=1))
    under = radius_server.authenticate(person.username, person.password)
    assert accepted(under) and reply_value(under, "Mikrotik-Rate-Limit") == "3M/6M"
    # The router must not end the session at the allowance: the fair-use job slows it instead.
    assert reply_value(under, "Mikrotik-Total-Limit") is None
    assert reply_value(under, "Acct-Interim-Interval") == 30
    used(person, 41, timezone.now() - timedelta(minutes=30), session="s-2")
    over = radius_server.authenticate(person.username, person.password, chap=True)
    assert accepted(over) and reply_value(over, "Mikrotik-Rate-Limit") == "512k/512k"


def test_over_the_allowance_a_block_package_is_rejected_as_before(radius_server):
    person = subscribed(package(after="block", data_mb=100, name="Weekly capped"))
    used(person, 99, timezone.now() - timedelta(hours=1))
    under = radius_server.authenticate(person.username, person.password)
    assert accepted(under) and reply_value(under, "Mikrotik-Total-Limit") == 1 * MB
    used(person, 1, timezone.now() - timedelta(minutes=5), session="s-2")
    over = radius_server.authenticate(person.username, person.password)
    assert not accepted(over) and reply_value(over, "Reply-Message") == "Your data allowance is used up"


def test_usage_before_the_subscription_started_does_not_count(radius_server):
    person = subscribed(package(data_mb=100), started=timezone.now() - timedelta(minutes=30))
    used(person, 500, timezone.now() - timedelta(hours=3))  # an earlier package's
    assert reply_value(radius_server.authenticate(person.username, person.password), "Mikrotik-Rate-Limit") == "3M/6M"


def test_the_daily_allowance_counts_from_local_midnight_and_resets_there(radius_server):
    midnight = local_midnight()
    person = subscribed(package(data_mb=10_000, daily_mb=200), started=midnight - timedelta(days=2))
    # Yesterday, up to a minute before local midnight: well over today's allowance, none of it today's.
    used(person, 900, midnight - timedelta(hours=3), session="yesterday")
    used(person, 150, midnight - timedelta(minutes=6), session="late")
    today = radius_server.authenticate(person.username, person.password)
    assert accepted(today) and reply_value(today, "Mikrotik-Rate-Limit") == "3M/6M"
    # The session ends at the next local midnight, so each session's bytes belong to one day.
    to_midnight = (midnight + timedelta(days=1) - timezone.now()).total_seconds()
    assert to_midnight - 5 <= reply_value(today, "Session-Timeout") <= to_midnight + 5
    used(person, 200, midnight, session="today")
    slowed = radius_server.authenticate(person.username, person.password)
    assert accepted(slowed) and reply_value(slowed, "Mikrotik-Rate-Limit") == "512k/512k"


def test_a_daily_cap_on_a_block_package_says_so(radius_server):
    midnight = local_midnight()
    person = subscribed(package(after="block", daily_mb=50, name="Daily capped"), started=midnight - timedelta(days=1))
    used(person, 30, midnight, session="today")
    partial = radius_server.authenticate(person.username, person.password)
    assert accepted(partial) and reply_value(partial, "Mikrotik-Total-Limit") == 20 * MB
    used(person, 20, midnight, session="today-2")
    over = radius_server.authenticate(person.username, person.password)
    assert not accepted(over) and reply_value(over, "Reply-Message") == "Your data allowance for today is used up"
