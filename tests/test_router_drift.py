"""Drift: a router changed behind billing's back is found step by step (provisioning's own steps in
dry run, writing nothing), reported once to the log and the admins, and put back by a provisioning
run; test_provisioning shows what a run would change without changing it."""
import asyncio
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import CommandError, call_command

from lib import live
from routers import drift, provisioning, services
from routers.drift import DriftItem
from routers.models import ProvisioningJob, Router, ServiceControlLog
from routers.routeros import RouterUnreachable
from routers.routeros_simulator import RouterOSSimulator
from routers.tasks import sync_router_data

from .routers_kit import API_PASSWORD, RADIUS_SECRET, TAG, WRITES, make_router
from .staff_kit import bearer

pytestmark = pytest.mark.usefixtures("our_servers")


def provisioned(sim: RouterOSSimulator) -> Router:
    router = make_router(sim)
    job = provisioning.run_job(provisioning.start_job(router).pk)
    assert job.status == "done", job.steps
    router.refresh_from_db()
    return router


def tamper(sim: RouterOSSimulator) -> None:
    """Someone on the router changes the RADIUS secret and deletes the portal's walled-garden entry."""
    [client] = sim.table("/radius").rows()
    sim.table("/radius").items[client[".id"]]["secret"] = "typed-by-hand"
    [portal] = sim.table("/ip/hotspot/walled-garden").rows(comment=f"{TAG}: portal")
    sim.table("/ip/hotspot/walled-garden").delete(portal[".id"])


TAMPERED = [
    DriftItem("radius_client", f"would set /radius '{TAG}: radius': secret"),
    DriftItem("walled_garden", f"would add /ip/hotspot/walled-garden '{TAG}: portal'"),
]


def writes(sim: RouterOSSimulator, since: int) -> list[str]:
    return [command for command in list(sim.commands)[since:] if command.endswith(WRITES)]


@pytest.mark.django_db
def test_a_provisioned_router_is_in_step(kilimani):
    router = provisioned(kilimani)

    assert drift.check(router) == []
    assert {result.status for result in drift.inspect(router)} == {"ok"}


@pytest.mark.django_db
def test_check_reports_exactly_what_changed_writes_nothing_and_repair_puts_it_back(kilimani, technician):
    router = provisioned(kilimani)
    tamper(kilimani)
    seen = len(kilimani.commands)

    assert drift.check(router) == TAMPERED
    assert writes(kilimani, seen) == []
    assert kilimani.table("/radius").rows()[0]["secret"] == "typed-by-hand"

    job = drift.repair(router, technician, wait=True)

    assert job.status == "done"
    assert kilimani.table("/radius").rows()[0]["secret"] == RADIUS_SECRET
    assert kilimani.table("/ip/hotspot/walled-garden").rows(comment=f"{TAG}: portal")[0]["dst-host"] == \
        "wifi.example.net"
    assert drift.check(router) == []
    [repair] = ServiceControlLog.objects.filter(action="repair").values_list("outcome", "user__username", "detail")
    assert repair == ("ok", "tabitha", f"provisioning job {job.pk}: done")


@pytest.mark.django_db
def test_a_fresh_router_would_get_everything_and_a_missing_secret_is_a_failed_step(kilimani):
    router = services.create_router(name="Bare", host="127.0.0.1", api_port=kilimani.port, api_username="admin",
                                    api_password=API_PASSWORD)

    checks = {result.step: result for result in drift.inspect(router)}

    assert checks["radius_client"].status == "failed" and "no readable RADIUS secret" in checks["radius_client"].message
    assert checks["radius_incoming"].changes == ("would set /radius/incoming incoming: accept",)
    assert checks["login_page"].changes == ("would write hotspot/login.html",)
    assert checks["walled_garden"].status == "drift" and len(checks["walled_garden"].changes) == 4
    assert not kilimani.table("/ip/hotspot/walled-garden").rows()


@pytest.mark.django_db
def test_an_unreachable_router_is_no_verdict(kilimani):
    router = provisioned(kilimani)
    kilimani.set_dead("refused")

    with pytest.raises(RouterUnreachable):
        drift.check(router)


@pytest.mark.django_db(transaction=True)
def test_the_job_logs_drift_once_tells_the_admins_and_logs_when_it_is_gone(kilimani):
    router = provisioned(kilimani)
    assert sync_router_data()["in_step"] == 1
    assert not ServiceControlLog.objects.filter(action="drift").exists()  # never drifted: nothing to say
    tamper(kilimani)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.ADMIN, channel)

    summary = sync_router_data()
    sync_router_data()  # the same drift again: no second row

    assert (summary["drifted"], summary["drifted_routers"]) == (1, ["Kilimani Hotspot"])
    [row] = ServiceControlLog.objects.filter(action="drift")
    assert row.outcome == "failed" and row.detail == drift.describe(TAMPERED)

    async def drift_event() -> dict:
        while True:
            for event in live.events_in(await asyncio.wait_for(layer.receive(channel), timeout=5)):
                if event["event"] == drift.DRIFT_EVENT:
                    return event["data"]

    event = async_to_sync(drift_event)()
    assert (event["id"], event["count"], event["steps"]) == (router.pk, 2, ["radius_client", "walled_garden"])
    assert kilimani.table("/radius").rows()[0]["secret"] == "typed-by-hand"  # the job only reports

    drift.repair(router, wait=True)
    sync_router_data()
    gone = ServiceControlLog.objects.filter(action="drift").order_by("-pk").first()
    assert (gone.outcome, gone.detail) == ("ok", drift.IN_STEP)


@pytest.mark.django_db
def test_the_job_skips_routers_polling_found_offline_or_being_provisioned(kilimani):
    router = provisioned(kilimani)
    Router.objects.filter(pk=router.pk).update(status=Router.Status.OFFLINE)
    kilimani.set_dead("silent")  # would cost the timeout if asked

    assert sync_router_data()["checked"] == 0
    Router.objects.filter(pk=router.pk).update(status=Router.Status.PROVISIONING)
    assert sync_router_data()["checked"] == 0


@pytest.mark.django_db
def test_the_command_reports_drift_with_exit_1_and_repairs_with_exit_0(kilimani):
    provisioned(kilimani)
    tamper(kilimani)
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("sync_router_data", stdout=out)

    assert failed.value.returncode == 1 and "run with --repair" in str(failed.value)
    text = out.getvalue()
    assert "Kilimani Hotspot: 2 differences" in text
    assert f"  radius_client: would set /radius '{TAG}: radius': secret" in text
    assert f"  walled_garden: would add /ip/hotspot/walled-garden '{TAG}: portal'" in text

    out = StringIO()
    call_command("sync_router_data", "--repair", "--router", "Kilimani Hotspot", stdout=out)
    assert "repaired by provisioning job" in out.getvalue() and "in step now" in out.getvalue()
    assert ProvisioningJob.objects.filter(status="done").count() == 2

    out = StringIO()
    call_command("sync_router_data", stdout=out)
    assert "Kilimani Hotspot: in step" in out.getvalue()
    with pytest.raises(CommandError, match="no router"):
        call_command("sync_router_data", "--router", "Nowhere")


@pytest.mark.django_db
def test_the_command_fails_when_a_router_cannot_be_checked(kilimani):
    router = provisioned(kilimani)
    kilimani.set_dead("refused")
    out = StringIO()

    with pytest.raises(CommandError, match="1 unreachable"):
        call_command("sync_router_data", "--router", str(router.pk), stdout=out)
    assert "Kilimani Hotspot: not checked: unreachable" in out.getvalue()


@pytest.mark.django_db
def test_test_provisioning_prints_what_would_change_and_writes_nothing(kilimani):
    router = make_router(kilimani)
    seen = len(kilimani.commands)
    out = StringIO()

    with pytest.raises(CommandError, match=f"6 of {len(provisioning.STEPS)} steps would change or stop"):
        call_command("test_provisioning", router.name, stdout=out)

    assert writes(kilimani, seen) == []
    assert not kilimani.table("/radius").rows() and not kilimani.table("/file").rows(name="hotspot/login.html")
    text = out.getvalue()
    assert f"radius_client    would add /radius '{TAG}: radius'" in text
    assert "login_page       would write hotspot/login.html" in text
    assert "nas_row          ok" in text  # create_router registered it

    provisioning.run_job(provisioning.start_job(router).pk)
    out = StringIO()
    call_command("test_provisioning", str(router.pk), stdout=out)
    assert out.getvalue().count(" ok\n") == len(provisioning.STEPS)
    assert "matches provisioning" in out.getvalue()


@pytest.mark.django_db
def test_test_provisioning_fails_on_an_unreachable_router(kilimani):
    router = make_router(kilimani)
    kilimani.set_dead("refused")

    with pytest.raises(CommandError, match="unreachable"):
        call_command("test_provisioning", router.name, stdout=StringIO())
    with pytest.raises(CommandError, match="no router"):
        call_command("test_provisioning", "Nowhere", stdout=StringIO())


@pytest.mark.django_db
def test_drift_and_sync_through_the_api(kilimani, client, technician, support_agent,
                                       django_capture_on_commit_callbacks):
    router = provisioned(kilimani)
    tamper(kilimani)
    url = f"/api/routers/{router.pk}"

    assert client.get(url + "/drift", **bearer(support_agent)).status_code == 403
    found = client.get(url + "/drift", **bearer(technician))
    assert found.status_code == 200
    assert found.json()["in_step"] is False
    assert [(item["step"], item["kind"]) for item in found.json()["items"]] == [
        ("radius_client", "differs"), ("walled_garden", "differs")]

    with django_capture_on_commit_callbacks(execute=True):  # queued at commit; Celery runs eagerly here
        started = client.post(url + "/sync", **bearer(technician))
    assert started.status_code == 202 and started.json()["job_id"]
    assert client.get(url + "/drift", **bearer(technician)).json() == {"id": router.pk, "in_step": True, "items": []}
