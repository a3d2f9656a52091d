"""Alerts: a rule sees something failing, an incident opens and each subscriber hears of it once per
channel they chose; it resolves once; a flapping router stays one incident; reminders stop when
someone acknowledges; two evaluators at once send one message. Time is driven by the evaluator's
``now``; routers go dead and come back through the real polling against the RouterOS simulator, and
Telegram is its Bot API simulator (tests/alerts_kit.py)."""
import logging
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import Entry
from billing.models import MpesaCallback, Notification, Payment
from monitoring import probes
from monitoring.alerts import incidents, outbox, rules
from monitoring.alerts.demo import seed_incidents
from monitoring.models import (
    AlertKind,
    AlertMessage,
    AlertRule,
    AlertSubscription,
    DatabaseBackup,
    Incident,
    TaskFailure,
)
from monitoring.tasks import evaluate_alerts
from routers import polling, services
from routers.demo import seed_routers
from routers.models import Router
from siteconfig import store

from .alerts_kit import ADMIN_CHAT, NOC_GROUP, TECH_CHAT
from .lists_kit import assert_flat_queries
from .mail_kit import smtp_settings
from .routers_kit import make_router

pytestmark = pytest.mark.django_db
ROUTER = [AlertKind.ROUTER_OFFLINE]
TECH_PHONE = "254711000222"
BUSINESS = "Kilimani WiFi"


@pytest.fixture(autouse=True)
def thresholds(settings, request):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = 1
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    store.save("general", {"business_name": BUSINESS})
    store.save("alerts", {"router_offline_minutes": 10, "flap_minutes": 60, "reminder_minutes": 120})


def subscribe(user, routes, **addresses) -> AlertSubscription:
    return AlertSubscription.objects.create(user=user, routes=routes, **addresses)


@pytest.fixture
def on_call(technician, admin):
    """Tabitha (Technician) wants routers by Telegram and SMS; Amani (Admin) routers by Telegram only."""
    subscribe(technician, ["router_offline:telegram", "router_offline:sms"], telegram_chat_id=TECH_CHAT,
              phone=TECH_PHONE)
    subscribe(admin, ["router_offline:telegram", "backup:email"], telegram_chat_id=ADMIN_CHAT,
              email="amani@kilimani.example")
    return technician, admin


def poll_once() -> Router:
    polling.poll_all()
    return Router.objects.get()


def to(chat, telegram) -> list[str]:
    return [m["text"].splitlines()[0] for m in telegram.messages if m["chat_id"] == chat]


def sms_to(phone) -> list[str]:
    return [text.splitlines()[0] for text in
            Notification.objects.filter(to=phone, channel="sms").order_by("pk").values_list("text", flat=True)]


ALERT = f"[{BUSINESS}] ALERT Router offline: Kilimani Hotspot"
RESOLVED = f"[{BUSINESS}] RESOLVED Router offline: Kilimani Hotspot"
AGAIN = f"[{BUSINESS}] FAILING AGAIN Router offline: Kilimani Hotspot"
STILL = f"[{BUSINESS}] STILL FAILING Router offline: Kilimani Hotspot"


def test_a_dead_router_alerts_each_chosen_channel_once_after_n_minutes_and_resolves_once(kilimani, telegram,
                                                                                          on_call):
    make_router(kilimani)
    seen = poll_once().last_seen_at
    kilimani.set_dead("refused")
    assert poll_once().status == Router.Status.OFFLINE

    incidents.evaluate(seen + timedelta(minutes=9), kinds=ROUTER)
    assert telegram.messages == [] and not Incident.objects.exists()  # not before N minutes

    incidents.evaluate(seen + timedelta(minutes=11), kinds=ROUTER)
    incidents.evaluate(seen + timedelta(minutes=12), kinds=ROUTER)  # still down: nothing new
    incident = Incident.objects.get()
    assert incident.is_open and incident.label == "Kilimani Hotspot" and "last seen" in incident.detail
    assert to(TECH_CHAT, telegram) == [ALERT] and to(ADMIN_CHAT, telegram) == [ALERT]
    assert sms_to(TECH_PHONE) == [ALERT]

    kilimani.set_dead(None)
    assert poll_once().status == Router.Status.ONLINE
    incidents.evaluate(seen + timedelta(minutes=25), kinds=ROUTER)
    incidents.evaluate(seen + timedelta(minutes=26), kinds=ROUTER)

    incident.refresh_from_db()
    assert incident.resolved_at == seen + timedelta(minutes=25)
    assert incident.time_to_resolve == timedelta(minutes=14)
    assert to(TECH_CHAT, telegram) == [ALERT, RESOLVED] and to(ADMIN_CHAT, telegram) == [ALERT, RESOLVED]
    assert sms_to(TECH_PHONE) == [ALERT, RESOLVED]
    assert len(telegram.messages) == 4  # exactly these, nothing to anyone else
    assert set(AlertMessage.objects.values_list("state", flat=True)) == {"sent"}


def test_a_router_flapping_ten_times_in_an_hour_is_one_incident_not_twenty_messages(kilimani, telegram, on_call):
    store.save("alerts", {"router_offline_minutes": 1})
    make_router(kilimani)
    start = poll_once().last_seen_at
    for flap in range(10):  # down 3 minutes, up 3 minutes
        kilimani.set_dead("refused")
        poll_once()
        incidents.evaluate(start + timedelta(minutes=6 * flap + 3), kinds=ROUTER)
        kilimani.set_dead(None)
        poll_once()
        incidents.evaluate(start + timedelta(minutes=6 * flap + 6), kinds=ROUTER)

    incident = Incident.objects.get()
    assert incident.flaps == 9 and not incident.is_open
    # Told it opened, resolved, failed again; the flapping resolutions are held...
    assert to(TECH_CHAT, telegram) == [ALERT, RESOLVED, AGAIN]
    # ...until it has stayed up flap_minutes.
    incidents.evaluate(start + timedelta(minutes=60 + 60), kinds=ROUTER)
    incidents.evaluate(start + timedelta(minutes=60 + 61), kinds=ROUTER)
    assert to(TECH_CHAT, telegram) == [ALERT, RESOLVED, AGAIN, RESOLVED]
    assert "after failing again 9 times" in telegram.messages[-1]["text"]
    assert len(telegram.messages) == 8 and sms_to(TECH_PHONE) == [ALERT, RESOLVED, AGAIN, RESOLVED]


@pytest.mark.django_db(transaction=True)
def test_two_evaluators_at_once_send_one_message(transactional_db, telegram, technician):
    subscribe(technician, ["router_offline:telegram"], telegram_chat_id=TECH_CHAT)
    services.create_router(name="Ruaka Estate", host="127.0.0.1", api_port=9, api_password="x")  # nothing listens
    assert poll_once().status == Router.Status.OFFLINE
    later = timezone.now() + timedelta(minutes=11)
    start, results = threading.Barrier(2), []

    def evaluator():
        try:
            start.wait()
            results.append(incidents.evaluate(later, kinds=ROUTER))
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result.opened for result in results) == 1
    assert Incident.objects.count() == 1 and AlertMessage.objects.count() == 1
    assert [m["chat_id"] for m in telegram.messages] == [TECH_CHAT]
    assert to(TECH_CHAT, telegram) == [f"[{BUSINESS}] ALERT Router offline: Ruaka Estate"]


def test_reminders_every_r_minutes_until_someone_acknowledges(telegram, on_call, signed_in):
    router = services.create_router(name="Kilimani Hotspot", host="127.0.0.1", api_port=9, api_password="x")
    poll_once()
    opened = router.created_at + timedelta(minutes=11)
    incidents.evaluate(opened, kinds=ROUTER)
    incidents.evaluate(opened + timedelta(minutes=119), kinds=ROUTER)
    incidents.evaluate(opened + timedelta(minutes=120), kinds=ROUTER)
    incidents.evaluate(opened + timedelta(minutes=130), kinds=ROUTER)
    assert to(TECH_CHAT, telegram) == [ALERT, STILL]

    incident = Incident.objects.get()
    page = signed_in("technician")
    response = page.post(reverse("alert-acknowledge", args=[incident.pk]))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.acknowledged_by_name == "tabitha"
    entry = Entry.objects.get(action="acknowledged")
    assert (entry.actor_name, entry.object_type, entry.object_id) == ("tabitha", "monitoring.incident",
                                                                      str(incident.pk))
    assert "Acknowledged by tabitha already" in page.post(reverse("alert-acknowledge", args=[incident.pk]),
                                                          follow=True).content.decode()

    incidents.evaluate(opened + timedelta(minutes=400), kinds=ROUTER)
    assert to(TECH_CHAT, telegram) == [ALERT, STILL]  # no more reminders
    assert signed_in("support").post(reverse("alert-acknowledge", args=[incident.pk])).status_code == 403


def test_m_pesa_callbacks_silent_while_prompts_go_out(telegram, finance_clerk):
    subscribe(finance_clerk, ["callbacks_silent:telegram"], telegram_chat_id=ADMIN_CHAT)
    now = timezone.now()
    Payment.objects.create(amount=Decimal("50"), method=Payment.Method.MPESA_STK, checkout_request_id="ws_CO_1",
                           phone="254712345678", created_at=now - timedelta(minutes=2))
    assert rules.callbacks_silent(now) == {}  # too young to have been answered
    Payment.objects.create(amount=Decimal("50"), method=Payment.Method.MPESA_STK, checkout_request_id="ws_CO_2",
                           phone="254712345678", created_at=now - timedelta(minutes=10))
    MpesaCallback.objects.create(kind="stk", body="{}", outcome="bad_token", received_at=now - timedelta(minutes=1))

    incidents.evaluate(now, kinds=[AlertKind.CALLBACKS_SILENT])
    [line] = to(ADMIN_CHAT, telegram)
    assert line == f"[{BUSINESS}] ALERT M-Pesa callbacks not arriving: M-Pesa STK callbacks"
    assert "no callback since ever" in telegram.messages[0]["text"]

    MpesaCallback.objects.create(kind="stk", body="{}", outcome="credited", received_at=now + timedelta(minutes=1))
    incidents.evaluate(now + timedelta(minutes=2), kinds=[AlertKind.CALLBACKS_SILENT])
    assert not Incident.objects.get().is_open


def test_more_than_k_bad_callbacks_in_an_hour():
    store.save("alerts", {"bad_callbacks_per_hour": 3})
    now = timezone.now()
    for outcome in ("unknown", "malformed", "amount_mismatch", "credited", "bad_token"):
        MpesaCallback.objects.create(kind="stk", body="{}", outcome=outcome, received_at=now - timedelta(minutes=5))
    MpesaCallback.objects.create(kind="stk", body="{}", outcome="malformed", received_at=now - timedelta(minutes=61))
    assert rules.bad_callbacks(now) == {}  # 3 in the hour: not more than K
    MpesaCallback.objects.create(kind="c2b_confirmation", body="{}", outcome="unknown", received_at=now)
    [failing] = rules.bad_callbacks(now).values()
    assert failing.detail.startswith("4 bad callbacks in the last hour (over 3)")


def test_a_failed_job_alerts_once_for_the_first_of_its_kind_in_an_hour(telegram, technician):
    subscribe(technician, ["job_failed:telegram"], telegram_chat_id=TECH_CHAT)
    now = timezone.now()
    for minutes in (50, 20, 5):
        TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="SmsError: down",
                                   failed_at=now - timedelta(minutes=minutes))
    TaskFailure.objects.create(task_name="routers.tasks.check_router_status", exception="x", state="dismissed",
                               failed_at=now)
    incidents.evaluate(now, kinds=[AlertKind.JOB_FAILED])
    incidents.evaluate(now + timedelta(minutes=1), kinds=[AlertKind.JOB_FAILED])
    assert to(TECH_CHAT, telegram) == [f"[{BUSINESS}] ALERT Background job failed: billing.tasks.send_receipts"]
    assert "3 failures in the last hour, latest: SmsError: down" in telegram.messages[0]["text"]
    incidents.evaluate(now + timedelta(minutes=56), kinds=[AlertKind.JOB_FAILED])  # an hour after the last
    assert to(TECH_CHAT, telegram)[-1].startswith(f"[{BUSINESS}] RESOLVED")


def test_a_failed_backup_or_none_verified_in_26_hours(on_call):
    now = timezone.now()
    assert "no verified backup ever" in rules.backup(now)["database"].detail
    DatabaseBackup.objects.create(state="verified", created_at=now - timedelta(hours=2))
    assert rules.backup(now) == {}
    DatabaseBackup.objects.create(state="failed", created_at=now - timedelta(hours=1), detail="pg_dump: refused\n..")
    assert rules.backup(now)["database"].detail.endswith("failed: pg_dump: refused")
    DatabaseBackup.objects.create(state="running", created_at=now)  # still running: not judged yet
    incidents.evaluate(now, kinds=[AlertKind.BACKUP])
    [message] = mail.outbox
    assert message.to == ["amani@kilimani.example"]
    assert message.subject == f"[{BUSINESS}] ALERT Database backup: Database backup"
    assert rules.backup(now + timedelta(hours=27)) != {}


def test_freeradius_silent_and_disk_low(settings, tmp_path, monkeypatch):
    settings.RADIUS_STATUS_PORT = 9  # nothing answers there
    monkeypatch.setattr(rules, "RADIUS_PROBE_TIMEOUT", 0.2)
    assert "Status-Server" in rules.radius_down(timezone.now())["freeradius"].detail
    settings.BACKUP_DIR = str(tmp_path / "not-yet")
    free = probes.disk_free_percent(tmp_path)
    store.save("alerts", {"disk_free_percent": 1})
    assert free < 1 or rules.disk_low(timezone.now()) == {}
    store.save("alerts", {"disk_free_percent": min(90, int(free) + 1)})
    if free < 90:
        [failing] = rules.disk_low(timezone.now()).values()
        assert failing.detail.endswith(f"under {int(free) + 1}%")


def test_a_rule_that_breaks_leaves_the_others_evaluated(settings, telegram, technician):
    settings.BACKUP_DIR = None  # not a path: the disk probe raises
    done = incidents.evaluate(timezone.now(), kinds=[AlertKind.DISK_LOW, AlertKind.JOB_FAILED])
    assert done.evaluated == [AlertKind.JOB_FAILED] and "TypeError" in done.errors[AlertKind.DISK_LOW]
    assert AlertRule.objects.get(kind=AlertKind.DISK_LOW).error.startswith("TypeError")


def test_a_refused_message_is_tried_again_later(telegram, technician):
    subscribe(technician, ["job_failed:telegram"], telegram_chat_id=TECH_CHAT)
    TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="x")
    telegram.refuse_next(429, "Too Many Requests: retry after 30", retry_after=30)
    now = timezone.now()
    incidents.evaluate(now, kinds=[AlertKind.JOB_FAILED])
    message = AlertMessage.objects.get()
    assert (message.state, message.attempts) == ("pending", 1) and "retry after 30" in message.error
    assert message.next_attempt_at == now + timedelta(seconds=60)
    outbox.deliver_due(now + timedelta(seconds=30))
    assert telegram.messages == []
    outbox.deliver_due(now + timedelta(seconds=60))
    message.refresh_from_db()
    assert message.state == "sent" and len(telegram.messages) == 1


def test_a_message_whose_sending_raises_is_retried_and_the_rest_of_the_batch_is_delivered(telegram, mailbox,
                                                                                          technician, admin, caplog):
    store.save("email", {**smtp_settings(mailbox), "use_tls": False})
    # Stored without the form (which refuses it): Django's mail backend raises ValueError on it.
    subscribe(technician, ["job_failed:email"], email="tabitha@kilimani@example")
    subscribe(admin, ["job_failed:email", "job_failed:telegram"], email="amani@kilimani.example",
              telegram_chat_id=ADMIN_CHAT)
    TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="x")
    now = timezone.now()
    with caplog.at_level(logging.ERROR, logger="monitoring.alerts.outbox"):
        done = incidents.evaluate(now, kinds=[AlertKind.JOB_FAILED])
    broken, *others = AlertMessage.objects.order_by("pk")
    assert broken.address == "tabitha@kilimani@example" and (broken.state, broken.attempts) == ("pending", 1)
    assert broken.error.startswith("ValueError: Invalid address") and broken.next_attempt_at == now + timedelta(
        seconds=60)
    assert [m.state for m in others] == ["sent", "sent"] and (done.delivered.sent, done.delivered.retrying) == (2, 1)
    assert to(ADMIN_CHAT, telegram) and [m[1] for m in mailbox.messages] == [["amani@kilimani.example"]]
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.exc_info and logged.exc_info[0] is ValueError
    for minutes in (1, 3):
        outbox.deliver_due(now + timedelta(minutes=minutes))
    broken.refresh_from_db()
    assert (broken.state, broken.attempts) == ("failed", 3) and not AlertMessage.objects.filter(state="sending")


def test_staff_sharing_an_address_get_one_copy(telegram, technician, admin, finance_clerk):
    store.save("general", {"time_zone": "Africa/Nairobi"})
    noc = {"telegram_chat_id": NOC_GROUP, "digest_channel": "telegram"}
    subscribe(technician, ["job_failed:telegram", "job_failed:email", "job_failed:sms"], email="noc@kilimani.example",
              phone=TECH_PHONE, **noc)
    subscribe(admin, ["job_failed:telegram", "job_failed:email", "job_failed:sms"], email="NOC@Kilimani.example ",
              phone="+254711000222", **noc)
    subscribe(finance_clerk, ["job_failed:telegram"], telegram_chat_id=ADMIN_CHAT, digest_channel="telegram")
    morning = datetime(2026, 12, 3, 7, 5, tzinfo=ZoneInfo("Africa/Nairobi"))
    TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="x", failed_at=morning)
    incidents.evaluate(morning, kinds=[AlertKind.JOB_FAILED])
    opened = list(AlertMessage.objects.filter(kind="opened").values_list("channel", "recipient__username"))
    assert sorted(opened) == [("email", "tabitha"), ("sms", "tabitha"), ("telegram", "faith"),
                              ("telegram", "tabitha")]
    digests = AlertMessage.objects.filter(kind="digest").values_list("address", flat=True)
    assert sorted(digests) == [NOC_GROUP, ADMIN_CHAT]
    assert [m["chat_id"] for m in telegram.messages].count(NOC_GROUP) == 2  # the alert and the digest, once each
    assert len(sms_to(TECH_PHONE)) == 1
    assert AlertSubscription.objects.filter(digest_sent_on=morning.date()).count() == 3


def test_the_digest_counts_every_open_incident_beyond_those_it_lists(telegram, technician):
    subscribe(technician, [], telegram_chat_id=TECH_CHAT, digest_channel="telegram")
    now = timezone.now()
    Incident.objects.bulk_create(Incident(kind="job_failed", subject=f"task.{n}", label=f"task {n}",
                                          opened_at=now - timedelta(hours=30, minutes=n)) for n in range(25))
    text = outbox.digest_text(now)
    assert "0 opened, 0 resolved; 25 open now." in text and "and 5 more" in text
    assert text.count("\n- Background job failed: ") == outbox.DIGEST_LISTS
    assert "task 24" in text and "task 0" not in text  # the oldest twenty


def test_the_digest_and_alert_times_follow_the_business_zone_whatever_zone_is_active(telegram, technician):
    # Lagos (UTC+1), not the server's Nairobi (UTC+3), and UTC active as in a command or a worker.
    store.save("general", {"time_zone": "Africa/Lagos"})
    subscribe(technician, ["job_failed:telegram"], telegram_chat_id=TECH_CHAT, digest_channel="telegram")
    utc = ZoneInfo("UTC")
    with timezone.override(utc):
        incidents.evaluate(datetime(2026, 12, 3, 5, 59, tzinfo=utc), kinds=[AlertKind.JOB_FAILED])
        assert telegram.messages == []  # 06:59 in Lagos (08:59 in Nairobi)
        TaskFailure.objects.create(task_name="billing.tasks.send_receipts", exception="x",
                                   failed_at=datetime(2026, 12, 3, 5, 59, 30, tzinfo=utc))
        incidents.evaluate(datetime(2026, 12, 3, 6, 0, tzinfo=utc), kinds=[AlertKind.JOB_FAILED])
    alert, digest = sorted((m["text"] for m in telegram.messages), key=lambda t: "digest" in t)
    assert "Opened 03 Dec 07:00." in alert
    assert digest.startswith(f"[{BUSINESS}] Alerts digest, 03 Dec 07:00")
    assert AlertSubscription.objects.get().digest_sent_on == datetime(2026, 12, 3).date()


def test_the_daily_digest_goes_once_a_day_from_seven(telegram, technician):
    subscribe(technician, [], telegram_chat_id=TECH_CHAT, digest_channel="telegram")
    morning = timezone.localtime().replace(hour=6, minute=59, second=0, microsecond=0)
    Incident.objects.create(kind="router_offline", subject="router:1", label="Ruaka Estate", detail="down",
                            opened_at=morning - timedelta(hours=2))
    incidents.evaluate(morning, kinds=[AlertKind.JOB_FAILED])
    assert telegram.messages == []
    for minutes in (1, 2, 600):
        incidents.evaluate(morning + timedelta(minutes=minutes), kinds=[AlertKind.JOB_FAILED])
    [digest] = telegram.messages
    assert digest["text"].startswith(f"[{BUSINESS}] Alerts digest")
    assert "1 open now" in digest["text"] and "Router offline: Ruaka Estate" in digest["text"]
    incidents.evaluate(morning + timedelta(days=1, minutes=1), kinds=[AlertKind.JOB_FAILED])
    assert len(telegram.messages) == 2


def test_staff_choose_their_alerts_and_send_themselves_a_test(telegram, signed_in, technician):
    page = signed_in("technician")
    url = reverse("alert-preferences")
    assert "Send me a test alert" not in page.get(url).content.decode()

    refused = page.post(url, {"routes": ["router_offline:sms"], "telegram_chat_id": "not a chat"})
    text = refused.content.decode()
    assert refused.status_code == 200 and "Needed for the alerts you chose by SMS" in text
    assert "A chat ID is a number" in text and not AlertSubscription.objects.exists()

    saved = page.post(url, {"routes": ["router_offline:telegram", "job_failed:sms"], "phone": "+254 711 000 222",
                            "telegram_chat_id": TECH_CHAT, "digest_channel": ""})
    assert saved.status_code == 302
    mine = AlertSubscription.objects.get(user=technician)
    assert mine.routes == ["job_failed:sms", "router_offline:telegram"] and mine.phone == TECH_PHONE
    entry = Entry.objects.get(object_type="monitoring.alertsubscription")
    assert entry.action == "created" and entry.changes["phone"] == [None, TECH_PHONE]

    shown = page.get(url).content.decode()
    assert 'value="router_offline:telegram" checked' in shown and "Send me a test alert" in shown
    answer = page.post(reverse("alert-preferences-test"), {"channel": "telegram"}, follow=True).content.decode()
    assert f"Test alert sent by Telegram to {TECH_CHAT}" in answer
    assert telegram.messages == [{"chat_id": TECH_CHAT, "text": f"[{BUSINESS}] Test alert\n"
                                                               "Alerts reach tabitha by Telegram."}]
    assert "Save your E-mail address first" in page.post(reverse("alert-preferences-test"), {"channel": "email"},
                                                         follow=True).content.decode()
    assert Entry.objects.filter(action="tested").count() == 1


def test_a_test_alert_goes_once_a_minute_per_channel(telegram, signed_in, technician):
    subscribe(technician, [], telegram_chat_id=TECH_CHAT, phone=TECH_PHONE)
    page, url = signed_in("technician"), reverse("alert-preferences-test")
    assert "Test alert sent by Telegram" in page.post(url, {"channel": "telegram"}, follow=True).content.decode()
    again = page.post(url, {"channel": "telegram"}, follow=True)
    assert again.status_code == 200
    assert "You sent yourself a test by Telegram less than a minute ago: try again in 60 s." in again.content.decode()
    assert len(telegram.messages) == 1
    assert "Test alert sent by SMS" in page.post(url, {"channel": "sms"}, follow=True).content.decode()
    assert page.post(url, {"channel": "sms"}).status_code == 302
    assert len(sms_to(TECH_PHONE)) == 1 and AlertMessage.objects.filter(kind="test").count() == 2
    assert Entry.objects.filter(action="tested").count() == 2


def test_incidents_are_listed_open_first_with_time_to_resolve(signed_in, django_assert_num_queries):
    now = timezone.now()
    Incident.objects.create(kind="router_offline", subject="router:1", label="Ngong Road", opened_at=now - timedelta(
        hours=3), resolved_at=now - timedelta(hours=1), acknowledged_by_name="tabitha", acknowledged_at=now)
    Incident.objects.create(kind="backup", subject="database", label="Database backup",
                            opened_at=now - timedelta(hours=5))
    page = signed_in("finance")
    text = page.get(reverse("alerts")).content.decode()
    assert text.index("Database backup") < text.index("Ngong Road")
    assert "2\xa0hours" in text and "tabitha" in text and "Acknowledge</button>" not in text
    assert "Acknowledge</button>" in signed_in("technician").get(reverse("alerts")).content.decode()
    assert "Ngong Road" not in page.get(reverse("alerts"), {"state": "open"}).content.decode()

    def make_rows(numbers):
        Incident.objects.bulk_create(Incident(kind="job_failed", subject=f"task.{n}", label=f"task {n}")
                                     for n in numbers)
    Incident.objects.all().delete()
    assert_flat_queries(page, reverse("alerts"), make_rows, 10, django_assert_num_queries)


def test_the_minute_job_and_the_command_run_the_evaluator(settings, capsys, monkeypatch):
    settings.RADIUS_STATUS_PORT = 9
    monkeypatch.setattr(rules, "RADIUS_PROBE_TIMEOUT", 0.2)
    result = evaluate_alerts.apply().get()
    assert sorted(result["evaluated"]) == sorted(AlertKind.values)
    call_command("evaluate_alerts")
    assert "7 rules evaluated" in capsys.readouterr().out
    assert Incident.objects.filter(kind="radius_down").count() == 1


def test_the_demo_has_one_resolved_and_one_open_incident_from_the_evaluator():
    seed_routers()
    assert seed_incidents() == 2 and seed_incidents() == 0  # Rongai (then resolved) and Ruaka
    resolved, still = Incident.objects.order_by("resolved_at")
    assert (resolved.label, resolved.time_to_resolve) == ("Rongai Main", timedelta(minutes=25))
    assert still.label == "Ruaka Estate" and still.is_open
    assert Router.objects.get(name="Rongai Main").status == Router.Status.ONLINE
