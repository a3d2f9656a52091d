"""The SMS at 80 % and 100 % of a plan's data allowance (issue 20), once each per period, whatever the
job's runs do, in the customer's language (billing.allowance_alerts)."""
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing import allowance_alerts
from billing.models import AllowanceAlert, Notification
from hotspot import services, subscriptions
from hotspot.models import Customer, Package, Subscription
from radius.models import RadAcct
from siteconfig import store

from .payments_kit import PHONE, closing

pytestmark = pytest.mark.django_db(transaction=True)
MB = 2**20
OTHER_PHONE = "254700111222"


def plan(after="throttle"):
    return services.save_package(Package(
        name="Weekly 100 MB", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        after_allowance=after, fup_rate_limit="512k/512k" if after == "throttle" else ""))


def subscribed(package, phone=PHONE, started=timedelta(days=2)):
    person = services.create_customer(phone)
    subscriptions.activate(person, package, "payment", now=timezone.now() - started)
    return person


def used(person, megabytes, ago=timedelta(hours=1), stopped=False):
    """An open session of ``person`` (stopped ``ago`` minus a minute if ``stopped``) moving ``megabytes``."""
    start = timezone.now() - ago
    RadAcct.objects.create(acct_session_id=f"s-{RadAcct.objects.count()}", acct_unique_id=f"u-{start.timestamp()}",
                           username=person.username, nas_ip_address="127.0.0.1", acct_start_time=start,
                           acct_update_time=start, acct_input_octets=megabytes * MB // 4,
                           acct_output_octets=megabytes * MB - megabytes * MB // 4,
                           acct_stop_time=start + timedelta(minutes=1) if stopped else None)


def texts(person):
    return list(Notification.objects.filter(customer=person).order_by("pk").values_list("text", flat=True))


def test_crossing_80_percent_texts_once_however_often_the_job_runs():
    person = subscribed(plan())
    used(person, 70)
    assert allowance_alerts.send_due().sent == 0 and texts(person) == []
    used(person, 15)
    assert allowance_alerts.send_due().sent == 1
    assert texts(person) == ["Hotspot: You have used 80 % of your Weekly 100 MB data (100 MB); 15 MB left. "
                             "Buy a boost on the portal, My account."]
    call_command("send_allowance_alerts")
    assert allowance_alerts.send_due().sent == 0 and len(texts(person)) == 1
    alert = AllowanceAlert.objects.get()
    assert (alert.threshold, alert.sent_at is not None, alert.error) == (80, True, "")
    assert alert.since == Subscription.objects.get(customer=person).starts_at


def test_runs_side_by_side_text_once():
    person = subscribed(plan())
    used(person, 90)
    runs = [threading.Thread(target=closing(allowance_alerts.send_due)) for _ in range(5)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(texts(person)) == 1 and AllowanceAlert.objects.count() == 1


def test_100_percent_sends_the_second_text_saying_the_plan_slows_down():
    person = subscribed(plan())
    used(person, 85)
    allowance_alerts.send_due()
    used(person, 20)
    assert allowance_alerts.send_due().sent == 1
    assert texts(person)[1] == ("Hotspot: Your Weekly 100 MB data (100 MB) is used up: your speed is now 512 kbit/s "
                                "until the plan ends. Buy a boost for full speed on the portal, My account.")
    assert allowance_alerts.send_due().sent == 0 and len(texts(person)) == 2


def test_a_block_plan_used_up_at_once_says_it_stops_and_skips_the_80_percent_text():
    person = subscribed(plan(after="block"))
    used(person, 120, stopped=True, ago=timedelta(minutes=3))  # the stop record came in since the last run
    result = allowance_alerts.send_due()
    assert (result.sent, result.skipped) == (1, 1)
    assert texts(person) == ["Hotspot: Your Weekly 100 MB data (100 MB) is used up: internet stops until you buy "
                             "a boost on the portal, My account, or a new plan."]
    assert sorted(AllowanceAlert.objects.values_list("threshold", "error")) == [
        (80, "skipped: the allowance was used up before the 80 % text went"), (100, "")]


def test_a_new_period_texts_again():
    package = plan()
    person = subscribed(package)
    used(person, 101, ago=timedelta(days=1))
    assert allowance_alerts.send_due().sent == 1  # straight to 100 %
    first = Subscription.objects.get(customer=person)
    subscriptions.activate(person, package, "payment")  # renewed: queued after the running one
    later = first.expires_at + timedelta(seconds=1)
    subscriptions.expire_due(now=later)
    renewed = Subscription.objects.get(customer=person, status="active")
    assert renewed.pk != first.pk and renewed.starts_at > first.starts_at
    assert allowance_alerts.send_due(now=later).sent == 0  # the old period's bytes do not count
    used(person, 85, ago=timezone.now() - renewed.starts_at - timedelta(minutes=5))
    assert allowance_alerts.send_due(now=later + timedelta(minutes=10)).sent == 1
    assert "80 %" in texts(person)[-1]
    assert AllowanceAlert.objects.filter(subscription=renewed, since=renewed.starts_at, threshold=80).exists()


def test_customers_without_a_phone_or_without_usage_this_period_are_not_counted(django_assert_max_num_queries):
    package = plan()
    phoneless = subscribed(package)
    Customer.objects.filter(pk=phoneless.pk).update(phone=None)
    used(phoneless, 95)
    idle = subscribed(package, phone=OTHER_PHONE)
    used(idle, 95, ago=timedelta(hours=2), stopped=True)  # stopped long before this run
    unlimited = services.save_package(Package(name="Unlimited", price=100, validity_minutes=1440, rate_limit="2M/2M"))
    free = subscribed(unlimited, phone="254700333444")
    used(free, 5000)
    with django_assert_max_num_queries(1):
        assert allowance_alerts.send_due().sent == 0
    assert not Notification.objects.exists() and not AllowanceAlert.objects.exists()


def test_a_kiswahili_customer_gets_kiswahili_and_the_template_is_editable():
    package = plan()
    person = subscribed(package)
    Customer.objects.filter(pk=person.pk).update(language="sw")
    used(person, 120)
    allowance_alerts.send_due()
    assert texts(person) == ["Hotspot: Data ya Weekly 100 MB (100 MB) imekwisha: kasi yako sasa ni 512 kbit/s hadi "
                             "kifurushi kiishe. Nunua nyongeza upate kasi kamili kwenye ukurasa wa kuingia, "
                             "Akaunti yangu."]
    store.save("sms", {"data_80_en": "{business}: 80 % of {package} gone, {left} left."})
    other = subscribed(package, phone=OTHER_PHONE)
    used(other, 90)
    allowance_alerts.send_due()
    assert texts(other) == ["Hotspot: 80 % of Weekly 100 MB gone, 10 MB left."]
