"""The nightly business summary (issue 18): yesterday's revenue, logins, top package and routers down,
to the staff who chose it on their alert preferences and may see revenue, once per business day from
07:00 business time, however many times the job runs."""
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection

from audit.models import Entry
from billing.models import Notification, Payment, PaymentDay
from hotspot.models import LoginHour, Package
from monitoring import business_summary
from monitoring.models import AlertMessage, AlertSubscription
from routers.models import Router
from tests.staff_kit import *  # noqa: F403 - the personas

YESTERDAY = date(2026, 11, 19)
# 07:30 in Nairobi (UTC+3) on the 20th.
MORNING = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)
DAWN = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 06:00 in Nairobi


def choose(user, *channels, phone="", email=""):
    return AlertSubscription.objects.create(user=user, routes=[f"summary:{c}" for c in channels], phone=phone,
                                            email=email)


def yesterdays_business():
    daily = Package.objects.create(name="Daily 1GB", price=50, validity_minutes=1440)
    weekly = Package.objects.create(name="Weekly 5GB", price=250, validity_minutes=10080)
    kilimani = Router.objects.create(name="Kilimani", host="10.0.0.1", status=Router.Status.ONLINE)
    Router.objects.create(name="Westlands", host="10.0.0.2", status=Router.Status.OFFLINE)
    PaymentDay.objects.create(day=YESTERDAY, package=daily, router=kilimani, method=Payment.Method.MPESA_STK,
                              payments=30, amount=Decimal("1500.00"), refunds=1, refunded=Decimal("50.00"))
    PaymentDay.objects.create(day=YESTERDAY, package=weekly, router=kilimani, method=Payment.Method.CASH,
                              payments=2, amount=Decimal("500.00"))
    # A wallet purchase spends money counted when it came in; the day before is another day.
    PaymentDay.objects.create(day=YESTERDAY, package=weekly, router=kilimani, method=Payment.Method.WALLET,
                              payments=9, amount=Decimal("2250.00"))
    PaymentDay.objects.create(day=date(2026, 11, 18), package=weekly, router=kilimani,
                              method=Payment.Method.MPESA_STK, payments=40, amount=Decimal("10000.00"))
    LoginHour.objects.create(day=YESTERDAY, hour=8, router=kilimani, accepted=120, rejected=0, reason="")
    LoginHour.objects.create(day=YESTERDAY, hour=9, router=kilimani, accepted=0, rejected=7, reason="expired")


@pytest.mark.django_db
def test_the_summary_tells_yesterdays_figures_to_those_who_chose_it(admin, finance_clerk, technician):
    yesterdays_business()
    choose(finance_clerk, "email", email="faith@example.net")
    choose(admin, "sms", phone="0711000222")
    choose(technician, "email", email="tabitha@example.net")  # may not see revenue: not told

    sent = business_summary.send_summary(now=MORNING)

    assert sent.queued == 2 and sent.delivered.sent == 2
    [email] = mail.outbox
    assert email.to == ["faith@example.net"]
    text = AlertMessage.objects.get(channel="sms").text
    assert "Yesterday, Thu 19 Nov 2026" in text
    assert "Revenue: KES 1,950.00 from 32 payments (refunded KES 50.00)" in text
    assert "Logins: 120 accepted, 7 rejected" in text
    assert "Top package: Daily 1GB, KES 1,500.00 (30 sold)" in text
    assert "Routers down now: 1 of 2 (Westlands)" in text
    assert Notification.objects.get(channel=Notification.Channel.SMS).to == "254711000222"
    entry = Entry.objects.get(object_type="monitoring.business_summary")
    assert (entry.action, entry.object_id, entry.actor_kind) == ("sent", "2026-11-19", "system")
    assert "faith by email" in entry.note and "amani by sms" in entry.note


@pytest.mark.django_db
def test_it_waits_for_seven_and_sends_once_however_often_it_runs(finance_clerk):
    yesterdays_business()
    choose(finance_clerk, "email", email="faith@example.net")

    assert business_summary.send_summary(now=DAWN).skipped == "before 07:00"
    business_summary.send_summary(now=MORNING)
    again = business_summary.send_summary(now=MORNING.replace(hour=9))

    assert again.skipped == "already sent"
    assert len(mail.outbox) == 1 and AlertMessage.objects.count() == 1


@pytest.mark.django_db
def test_the_command_says_what_it_did():
    out = StringIO()

    call_command("send_business_summary", stdout=out)

    assert out.getvalue().startswith("Summary of ") and "not sent" in out.getvalue()  # nobody chose it


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_it_once(finance_clerk):
    yesterdays_business()
    choose(finance_clerk, "email", email="faith@example.net")
    start = threading.Barrier(2)

    def run():
        start.wait()
        try:
            business_summary.send_summary(now=MORNING, deliver=False)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert AlertMessage.objects.count() == 1


@pytest.mark.django_db
def test_staff_choose_it_on_their_alert_preferences(client, finance_clerk, technician):
    client.force_login(finance_clerk)

    page = client.get("/alerts/preferences/").content.decode()
    saved = client.post("/alerts/preferences/", {"email": "faith@example.net", "summary": ["email"]})

    assert "Nightly business summary" in page and saved.status_code == 302
    assert AlertSubscription.objects.get(user=finance_clerk).routes == ["summary:email"]
    client.force_login(technician)
    assert "Nightly business summary" not in client.get("/alerts/preferences/").content.decode()
