"""Router polling: every router at once, a dead one costing only its own timeout; status changes,
samples, the status log and the live events follow."""
import asyncio
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command

from lib import live
from routers import polling, services
from routers.models import Router, RouterSample, ServiceControlLog
from routers.routeros_simulator import start_fleet, stop_fleet
from routers.tasks import check_router_status, check_routers, cleanup_router_samples

PASSWORD = "fleet-api-secret"
TIMEOUT = 1.0


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = TIMEOUT


@pytest.fixture
def fleet():
    sims = start_fleet(5, password=PASSWORD, latency_ms=20)
    sims[-1].set_dead("silent")
    yield sims
    stop_fleet(sims)


def add_routers(sims) -> list[Router]:
    return [services.create_router(name=sim.identity, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                   api_password=PASSWORD) for sim in sims]


def statuses() -> dict:
    return dict(Router.objects.values_list("name", "status"))


@pytest.mark.django_db
def test_one_cycle_marks_the_dead_router_offline_and_samples_the_others(fleet):
    routers = add_routers(fleet)
    fleet[0].login_hotspot("254712345678")

    summary = polling.poll_all()

    assert statuses() == {"sim-1": "online", "sim-2": "online", "sim-3": "online", "sim-4": "online",
                          "sim-5": "offline"}
    dead = Router.objects.get(name="sim-5")
    assert dead.last_error.startswith("unreachable") and dead.last_seen_at is None
    assert RouterSample.objects.filter(router=dead).count() == 0
    for router in routers[:4]:
        router.refresh_from_db()
        assert router.last_error == "" and router.last_seen_at is not None
        [sample] = RouterSample.objects.filter(router=router)
        assert 0 <= sample.cpu_load <= 100 and 0 < sample.memory_used_pct < 100
        assert sample.uptime_seconds > 3 * 86400 and sample.rx_bytes > 0 and sample.tx_bytes > 0
    assert RouterSample.objects.get(router=routers[0]).active_users == 1
    assert RouterSample.objects.get(router=routers[1]).active_users == 0
    assert (summary["polled"], summary["online"], summary["offline"], summary["error"]) == (5, 4, 1, 0)
    assert summary["slowest"]["name"] == "sim-5"
    # Concurrent: the cycle is the dead router's timeout, not the sum of five polls.
    assert TIMEOUT <= summary["seconds"] < TIMEOUT + 0.8
    # Created offline, so only the four that came online changed (and are logged).
    assert sorted(summary["changed"]) == sorted(router.pk for router in routers[:4])
    logged = ServiceControlLog.objects.filter(action="status")
    assert sorted(logged.values_list("router_name", "outcome", "detail")) == [
        (f"sim-{n}", "ok", "offline -> online") for n in range(1, 5)]


@pytest.mark.django_db
def test_only_transitions_are_logged_and_a_router_coming_back_goes_online(fleet):
    add_routers(fleet)
    polling.poll_all()
    polling.poll_all()
    assert ServiceControlLog.objects.filter(action="status").count() == 4
    assert RouterSample.objects.count() == 8

    fleet[-1].set_dead(None)
    fleet[0].set_dead("refused")
    summary = polling.poll_all()

    assert statuses()["sim-5"] == "online" and statuses()["sim-1"] == "offline"
    assert summary["online"] == 4 and summary["offline"] == 1
    names = {router.pk: router.name for router in Router.objects.all()}
    assert sorted(names[pk] for pk in summary["changed"]) == ["sim-1", "sim-5"]
    back = ServiceControlLog.objects.filter(action="status", router_name="sim-5").get()
    gone = ServiceControlLog.objects.filter(action="status", router_name="sim-1").order_by("-pk").first()
    assert (back.outcome, back.detail) == ("ok", "offline -> online")
    assert gone.outcome == "failed" and gone.detail.startswith("online -> offline: unreachable")


@pytest.mark.django_db
def test_routers_being_provisioned_are_left_alone(fleet):
    routers = add_routers(fleet)
    Router.objects.filter(pk__in=[routers[0].pk, routers[-1].pk]).update(status=Router.Status.PROVISIONING)

    summary = polling.poll_all()

    assert statuses()["sim-1"] == "provisioning" and statuses()["sim-5"] == "provisioning"
    assert Router.objects.get(name="sim-5").last_error == ""
    assert not RouterSample.objects.filter(router__in=[routers[0], routers[-1]]).exists()
    assert summary["polled"] == 3 and summary["online"] == 3
    assert fleet[0].logins == 0
    assert summary["seconds"] < TIMEOUT  # the dead one was not even asked


@pytest.mark.django_db
def test_a_wrong_password_is_an_error_not_offline(fleet):
    router = services.create_router(name="wrong", host="127.0.0.1", api_port=fleet[1].port, api_username="admin",
                                    api_password="not-it")
    polling.poll_all()
    router.refresh_from_db()
    assert router.status == "error" and router.last_error.startswith("auth_failed")


@pytest.mark.django_db(transaction=True)
def test_changes_and_the_cycle_summary_reach_the_admins(fleet):
    routers = add_routers(fleet)
    Router.objects.filter(pk=routers[1].pk).update(status=Router.Status.ONLINE)  # already online: no event
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.ADMIN, channel)

    summary = check_router_status()

    async def collect() -> list[dict]:
        events = []
        while not events or events[-1]["event"] != polling.LIVE_EVENT:
            events.extend(live.events_in(await asyncio.wait_for(layer.receive(channel), timeout=5)))
        return events

    events = async_to_sync(collect)()
    changes = [event["data"] for event in events if event["event"] == polling.STATUS_EVENT]
    assert sorted((change["name"], change["previous"], change["status"]) for change in changes) == [
        ("sim-1", "offline", "online"), ("sim-3", "offline", "online"), ("sim-4", "offline", "online")]
    assert events[-1]["data"]["online"] == 4 and events[-1]["data"]["offline"] == 1
    assert events[-1]["data"]["seconds"] == summary["seconds"]


@pytest.mark.django_db
def test_the_command_prints_the_summary(fleet):
    add_routers(fleet)
    out = StringIO()
    call_command("check_router_status", stdout=out)
    text = out.getvalue()
    assert "5 routers: 4 online, 1 offline, 0 error" in text
    assert "slowest: sim-5" in text


@pytest.mark.django_db
def test_old_samples_are_deleted_after_the_retention(settings):
    from datetime import timedelta

    from django.utils import timezone
    settings.ROUTER_SAMPLE_RETENTION_DAYS = 14
    router = services.create_router(name="Old", host="127.0.0.1", api_port=8728, api_username="admin")
    now = timezone.now()
    RouterSample.objects.create(router=router, taken_at=now - timedelta(days=15))
    kept = RouterSample.objects.create(router=router, taken_at=now - timedelta(days=13))
    assert cleanup_router_samples.run() == {"deleted": 1}
    assert list(RouterSample.objects.all()) == [kept]


@pytest.mark.django_db
def test_the_cleanup_command_deletes_old_samples_and_keeps_recent_ones(settings):
    from datetime import timedelta

    from django.utils import timezone
    settings.ROUTER_SAMPLE_RETENTION_DAYS = 14
    router = services.create_router(name="Old", host="127.0.0.1", api_port=8728, api_username="admin")
    now = timezone.now()
    RouterSample.objects.create(router=router, taken_at=now - timedelta(days=15))
    kept = RouterSample.objects.create(router=router, taken_at=now - timedelta(days=13))
    out = StringIO()
    call_command("cleanup_router_samples", stdout=out)
    assert out.getvalue() == "Deleted 1 router samples older than 14 days.\n"
    assert list(RouterSample.objects.all()) == [kept]


def test_the_old_task_name_still_runs_the_poll():
    """A check queued under the old name before a deploy is not dropped as an unregistered task."""
    assert check_routers.name == "routers.tasks.check_routers"
    assert check_routers.run is check_router_status.run
