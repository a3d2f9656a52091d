"""Fair use for sessions already online: a session whose interim updates carry its user over a
package's allowance is slowed to the fair-use rate by CoA-Request (RFC 5176), once, within the stated
bound; a router that refuses or stays silent has the session's queue changed over its API instead.
Accounting goes through real FreeRADIUS, the CoA to the NAS simulator, the API to the RouterOS one."""
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from audit.models import Entry
from hotspot import fair_use as hotspot_fair_use
from hotspot import services, subscriptions
from hotspot.models import Package
from radius import fair_use
from radius import services as radius
from radius.models import CoaAttempt, RadAcct, SessionSlowdown
from radius.nas_simulator import NAK, SILENT, NasSimulator
from routers.models import ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator

from .radius_server import accepted, reply_value
from .routers_kit import make_router

pytestmark = pytest.mark.django_db(transaction=True)  # FreeRADIUS and the job's threads read committed rows
SECRET = "kilimani-coa-secret"
MB = 2**20


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = 1
    settings.RADIUS_COA_TIMEOUT = 1
    settings.RADIUS_COA_RETRIES = 1


@pytest.fixture
def nas():
    with NasSimulator(secret=SECRET.encode()) as simulator:
        yield simulator


def register(nas, router=None):
    radius.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=nas.port,
                        description=f"router {router.pk}" if router else "")


def package(after="throttle", data_mb=100):
    return services.save_package(Package(
        name=f"Weekly {after}", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=data_mb,
        after_allowance=after, fup_rate_limit="512k/512k" if after == "throttle" else ""))


def subscribed(plan, phone):
    person = services.create_customer(phone)
    subscriptions.activate(person, plan, "payment", now=timezone.now() - timedelta(minutes=10))
    return person


def online(person, session, megabytes, ip):
    """An open session as the router's accounting left it (the tests without FreeRADIUS)."""
    return RadAcct.objects.create(
        acct_session_id=session, acct_unique_id=f"u-{session}", username=person.username, nas_ip_address="127.0.0.1",
        framed_ip_address=ip, acct_start_time=timezone.now() - timedelta(minutes=5), acct_update_time=timezone.now(),
        acct_input_octets=megabytes * MB // 10, acct_output_octets=megabytes * MB - megabytes * MB // 10)


def test_a_session_whose_interim_updates_cross_the_allowance_is_slowed_once_within_the_bound(radius_server, nas):
    register(nas)
    person = subscribed(package(), "0712 000 201")
    signed_in = radius_server.authenticate(person.username, person.password)
    assert accepted(signed_in) and reply_value(signed_in, "Mikrotik-Rate-Limit") == "3M/6M"
    # The bound: the router reports usage every interim interval, the job runs every beat.
    interim = reply_value(signed_in, "Acct-Interim-Interval")
    beat = settings.CELERY_BEAT_SCHEDULE["slow-down-crossed-sessions"]["schedule"]
    assert interim + beat <= hotspot_fair_use.BOUND_SECONDS == 60
    radius_server.account("Start", person.username, "f-1", Framed_IP_Address="10.5.50.31")
    radius_server.account("Interim-Update", person.username, "f-1", Acct_Input_Octets=10 * MB,
                          Acct_Output_Octets=80 * MB, Acct_Session_Time=30, Framed_IP_Address="10.5.50.31")
    assert fair_use.slow_down_crossed() == [] and nas.received == []  # 90 MB of 100: full speed still

    radius_server.account("Interim-Update", person.username, "f-1", Acct_Input_Octets=12 * MB,
                          Acct_Output_Octets=90 * MB, Acct_Session_Time=60, Framed_IP_Address="10.5.50.31")
    started = time.monotonic()
    [attempt] = fair_use.slow_down_crossed()
    assert time.monotonic() - started < 5  # the job's own share of the bound
    [got] = nas.received
    assert got.kind == "coa" and got.attributes == {"User-Name": person.username, "Acct-Session-Id": "f-1",
                                                    "Framed-IP-Address": "10.5.50.31",
                                                    "Mikrotik-Rate-Limit": "512k/512k"}
    stored = CoaAttempt.objects.get()
    assert (stored.kind, stored.outcome, stored.requested_by) == ("coa", "ack", "fair use") and stored.applied
    assert SessionSlowdown.objects.get().attempt_id == stored.pk
    entry = Entry.objects.get(action="slowed_down")
    assert entry.object_label == person.username and entry.note == "to 512k/512k: ack"

    # Once: the next runs find the session slowed already, while it stays open.
    radius_server.account("Interim-Update", person.username, "f-1", Acct_Input_Octets=20 * MB,
                          Acct_Output_Octets=120 * MB, Acct_Session_Time=90, Framed_IP_Address="10.5.50.31")
    assert fair_use.slow_down_crossed() == [] and len(nas.received) == 1
    # And its next sign-in is at the fair-use rate too.
    radius_server.account("Stop", person.username, "f-1", Acct_Input_Octets=20 * MB, Acct_Output_Octets=120 * MB,
                          Acct_Session_Time=100)
    again = radius_server.authenticate(person.username, person.password)
    assert accepted(again) and reply_value(again, "Mikrotik-Rate-Limit") == "512k/512k"
    fair_use.slow_down_crossed()
    assert not SessionSlowdown.objects.exists()  # the ended session's claim is forgotten


def test_cut_off_packages_and_customers_within_their_allowance_are_left_alone(nas):
    register(nas)
    online(subscribed(package(after="block"), "0712 000 202"), "b-1", 150, "10.5.50.32")
    online(subscribed(package(data_mb=500), "0712 000 203"), "u-1", 150, "10.5.50.33")
    assert fair_use.slow_down_crossed() == [] and nas.received == []


def test_jobs_running_at_once_slow_each_session_once(nas):
    register(nas)
    plan = package()
    for n in range(6):
        online(subscribed(plan, f"0712 000 3{n:02d}"), f"c-{n}", 101, f"10.5.50.{40 + n}")
    barrier, failed = threading.Barrier(4), []

    def run():
        barrier.wait()
        try:
            fair_use.slow_down_crossed()
        except Exception as error:  # noqa: BLE001 - reported below
            failed.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failed, failed
    assert sorted(r.attributes["Acct-Session-Id"] for r in nas.received) == [f"c-{n}" for n in range(6)]
    assert CoaAttempt.objects.count() == 6 and SessionSlowdown.objects.count() == 6


@pytest.fixture
def kilimani():
    from .routers_kit import API_PASSWORD

    with RouterOSSimulator(identity="Kilimani Hotspot", password=API_PASSWORD) as running:
        yield running


@pytest.mark.parametrize("answer", [NAK, SILENT])
def test_a_router_that_does_not_take_the_coa_has_the_sessions_queue_changed_over_its_api(nas, kilimani, answer):
    register(nas, make_router(kilimani))
    person = subscribed(package(), "0712 000 401")
    kilimani.login_hotspot(person.username, address="10.5.50.51")
    queue = kilimani.table("/queue/simple").insert(name=f"<hotspot-{person.username}>", target="10.5.50.51/32",
                                                   max_limit="3M/6M", dynamic="true")
    other = kilimani.table("/queue/simple").insert(name="<hotspot-someone>", target="10.5.50.52/32",
                                                   max_limit="3M/6M", dynamic="true")
    online(person, "q-1", 120, "10.5.50.51")
    nas.answer(person.username, answer)

    [attempt] = fair_use.slow_down_crossed()

    assert attempt.outcome == answer.replace("silent", "timeout") and attempt.api_changed == 1 and attempt.applied
    assert "over the API: Kilimani Hotspot: queue set to 512k/512k" in attempt.detail
    queues = kilimani.table("/queue/simple")
    assert queues.items[queue]["max-limit"] == "512k/512k" and queues.items[other]["max-limit"] == "3M/6M"
    assert len(kilimani.table("/ip/hotspot/active")) == 1  # still online, slower
    assert CoaAttempt.objects.get().api_changed == 1 and SessionSlowdown.objects.count() == 1
    assert ServiceControlLog.objects.get(action="slow down").outcome == "ok"


def test_without_a_queue_to_change_the_session_signs_in_again_into_the_fair_use_rate(nas, kilimani):
    register(nas, make_router(kilimani))
    person = subscribed(package(), "0712 000 402")
    kilimani.login_hotspot(person.username, address="10.5.50.61")
    online(person, "k-1", 120, "10.5.50.61")
    nas.answer(person.username, NAK)

    [attempt] = fair_use.slow_down_crossed()

    assert attempt.api_changed == 0 and attempt.api_kicked == 1 and attempt.applied
    assert "no queue to change, 1 sessions ended to sign in again" in attempt.detail
    assert len(kilimani.table("/ip/hotspot/active")) == 0


def test_when_neither_the_router_nor_its_api_answer_the_next_run_tries_again(nas, kilimani):
    register(nas, make_router(kilimani))
    person = subscribed(package(), "0712 000 403")
    online(person, "d-1", 120, "10.5.50.71")
    nas.answer(person.username, NAK)
    kilimani.set_dead("refused")

    [refused] = fair_use.slow_down_crossed()
    assert not refused.applied and "unreachable" in refused.detail
    assert not SessionSlowdown.objects.exists()  # the claim is given back
    assert not Entry.objects.filter(action="slowed_down").exists()  # nothing was slowed

    nas.answer(person.username, "ack")
    [retried] = fair_use.slow_down_crossed()
    assert retried.applied and SessionSlowdown.objects.get().attempt_id == retried.pk


def test_a_claim_whose_run_died_before_the_coa_is_taken_again(nas):
    register(nas)
    session = online(subscribed(package(), "0712 000 601"), "x-1", 120, "10.5.50.91")
    SessionSlowdown.objects.create(session=session, username=session.username, rate="512k/512k")
    assert fair_use.slow_down_crossed() == []  # a run may still be sending it
    SessionSlowdown.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    [attempt] = fair_use.slow_down_crossed()
    assert attempt.applied and SessionSlowdown.objects.get().attempt_id == attempt.pk


def test_the_job_is_a_command_and_a_beat_task(nas):
    import io

    from django.core.management import call_command

    from radius import tasks

    register(nas)
    online(subscribed(package(), "0712 000 501"), "j-1", 120, "10.5.50.81")
    out = io.StringIO()
    call_command("slow_down_crossed_sessions", stdout=out)
    assert out.getvalue().strip() == "Slowed down 1 sessions; 0 to try again."
    assert tasks.slow_down_crossed_sessions() == 0
    beat = settings.CELERY_BEAT_SCHEDULE["slow-down-crossed-sessions"]
    assert beat["task"] == "radius.tasks.slow_down_crossed_sessions"
