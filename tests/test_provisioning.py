"""Provisioning: a technician configures a fresh router for us in steps that read back what they wrote;
running it again changes nothing; a refusal stops at its step with the router's words, and a retry
finishes the job. Progress reaches the job's live group."""
import asyncio
from io import StringIO

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import CommandError, call_command

from lib import live
from radius.models import Nas
from routers import provisioning
from routers.models import ProvisioningJob, Router
from routers.routeros_simulator import RouterOSSimulator
from routers.tasks import provision_router

from .routers_kit import RADIUS_SECRET, TAG, WRITES, make_router

pytestmark = pytest.mark.usefixtures("our_servers")


def provision(router: Router) -> ProvisioningJob:
    return provisioning.run_job(provisioning.start_job(router).pk)


def ours(sim: RouterOSSimulator, path: str) -> list[dict]:
    return [row for row in sim.table(path).rows() if row.get("comment", "").startswith(TAG)]


def steps(job: ProvisioningJob) -> dict:
    return {step["name"]: (step["status"], step["message"]) for step in job.steps}


@pytest.mark.django_db
def test_it_configures_a_fresh_router_exactly(kilimani):
    router = make_router(kilimani)

    job = provision(router)

    assert job.status == "done", job.steps
    assert [step["status"] for step in job.steps] == ["ok"] * len(provisioning.STEPS)
    [client] = kilimani.table("/radius").rows()
    assert {key: client[key] for key in ("service", "address", "secret", "comment")} == {
        "service": "hotspot,ppp", "address": "10.8.0.1", "secret": RADIUS_SECRET, "comment": f"{TAG}: radius"}
    assert kilimani.table("/radius/incoming").rows()[0]["accept"] == "true"
    [profile] = kilimani.table("/ip/hotspot/profile").rows(name="hsprof1")
    assert (profile["use-radius"], profile["radius-accounting"], profile["radius-interim-update"],
            profile["login-by"]) == ("true", "true", "5m", "cookie,http-chap,http-pap")
    assert kilimani.table("/ip/hotspot/profile").rows(name="default")[0]["use-radius"] == "false"  # unused
    assert [(row["dst-host"], row["comment"]) for row in kilimani.table("/ip/hotspot/walled-garden").rows()] == [
        ("wifi.example.net", f"{TAG}: portal"), ("sandbox.safaricom.co.ke", f"{TAG}: daraja")]
    assert [(row["action"], row["dst-host"]) for row in kilimani.table("/ip/hotspot/walled-garden/ip").rows()] == [
        ("accept", "wifi.example.net"), ("accept", "sandbox.safaricom.co.ke")]
    assert [(row["list"], row["address"]) for row in kilimani.table("/ip/firewall/address-list").rows()] == [
        ("hotspot-grace-allowed", "wifi.example.net")]
    rules = kilimani.table("/ip/firewall/filter").rows()
    assert [(rule["chain"], rule["action"], rule.get("src-address-list"), rule.get("dst-address-list"))
            for rule in rules[:2]] == [("forward", "accept", "hotspot-grace", "hotspot-grace-allowed"),
                                       ("forward", "drop", "hotspot-grace", None)]
    assert len(rules) == 8 and all(rule["comment"].startswith("defconf") for rule in rules[2:])
    [page] = kilimani.table("/file").rows(name="hotspot/login.html")
    assert page["contents"] == provisioning.login_html(router)
    assert Nas.objects.get(nasname="127.0.0.1").secret == RADIUS_SECRET
    router.refresh_from_db()
    assert (router.status, router.last_error) == ("online", "")


@pytest.mark.django_db
def test_running_it_again_changes_nothing(kilimani):
    router = make_router(kilimani)
    provision(router)
    before = {path: kilimani.table(path).rows() for path in ("/radius", "/ip/hotspot/profile", "/ip/firewall/filter",
                                                               "/ip/hotspot/walled-garden", "/file")}
    seen = len(kilimani.commands)

    again = provision(router)

    assert again.status == "done"
    assert {status for status, _ in steps(again).values()} == {"ok"}
    assert {message for _, message in steps(again).values()} == {"unchanged"}
    assert not [command for command in list(kilimani.commands)[seen:] if command.endswith(WRITES)]
    assert {path: kilimani.table(path).rows() for path in before} == before


@pytest.mark.django_db
def test_it_puts_back_what_someone_changed_and_only_that(kilimani):
    router = make_router(kilimani)
    provision(router)
    [rule] = kilimani.table("/ip/hotspot/walled-garden").rows(comment=f"{TAG}: portal")
    kilimani.table("/ip/hotspot/walled-garden").items[rule[".id"]]["dst-host"] = "old.example.net"

    job = provision(router)

    assert steps(job)["walled_garden"] == ("ok", f"set /ip/hotspot/walled-garden '{TAG}: portal': dst-host")
    assert steps(job)["radius_client"] == ("ok", "unchanged")
    assert kilimani.table("/ip/hotspot/walled-garden").rows(comment=f"{TAG}: portal")[0]["dst-host"] == \
        "wifi.example.net"


@pytest.mark.django_db
def test_a_refusal_stops_at_its_step_and_a_retry_finishes(kilimani):
    router = make_router(kilimani)
    kilimani.refuse["/ip/hotspot/walled-garden/add"] = "failure: walled garden is read-only here"

    failed = provision(router)

    assert failed.status == "failed"
    assert failed.current_step == "walled_garden"
    assert steps(failed)["walled_garden"] == (
        "failed", "/ip/hotspot/walled-garden/add: failure: walled garden is read-only here")
    assert [steps(failed)[name][0] for name in ("radius_client", "radius_incoming", "hotspot_profile")] == ["ok"] * 3
    assert [steps(failed)[name][0] for name in ("grace_firewall", "login_page", "nas_row")] == ["pending"] * 3
    assert "read-only here" in failed.error
    router.refresh_from_db()
    assert router.status == "error" and "walled_garden" in router.last_error
    assert not ours(kilimani, "/ip/firewall/filter")

    kilimani.refuse.clear()
    retried = provision(router)

    assert retried.pk != failed.pk and retried.status == "done"
    assert steps(retried)["radius_client"] == ("ok", "unchanged")
    assert steps(retried)["walled_garden"][1].startswith("added")
    assert len(ours(kilimani, "/ip/firewall/filter")) == 2
    router.refresh_from_db()
    assert router.status == "online"


@pytest.mark.django_db
def test_an_unreachable_router_fails_the_first_step(kilimani):
    router = make_router(kilimani)
    kilimani.set_dead("refused")

    job = provision(router)

    assert job.status == "failed" and job.current_step == "radius_client"
    assert steps(job)["radius_client"][1].startswith("unreachable:")


@pytest.mark.django_db
def test_one_job_at_a_time_per_router(kilimani):
    router = make_router(kilimani)
    first = provisioning.start_job(router)

    assert provisioning.start_job(router).pk == first.pk


def test_the_login_page_sends_the_device_to_our_portal_with_the_mikrotik_variables(settings):
    page = provisioning.login_html()

    assert ("https://wifi.example.net/portal/?mac=$(mac-esc)&amp;ip=$(ip)&amp;link-login-only=$(link-login-only)"
            "&amp;link-orig=$(link-orig-esc)") in page
    assert 'http-equiv="refresh"' in page


@pytest.mark.django_db(transaction=True)
def test_progress_is_published_to_the_jobs_group(kilimani):
    router = make_router(kilimani)
    job = provisioning.start_job(router)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.provisioning_group(job.pk), channel)

    provision_router(job.pk)

    async def collect() -> list[dict]:
        events = []
        while not events or events[-1]["event"] != provisioning.FINISHED:
            events.extend(live.events_in(await asyncio.wait_for(layer.receive(channel), timeout=5)))
        return events

    events = async_to_sync(collect)()
    progress = [event["data"] for event in events if event["event"] == provisioning.PROGRESS]
    assert [(event["step"], event["status"]) for event in progress] == [(name, "ok") for name, _ in provisioning.STEPS]
    assert [event["percent"] for event in progress][-1] == 100
    assert progress[0]["percent"] < progress[1]["percent"]
    assert events[-1]["data"] == {"job": job.pk, "status": "done", "error": ""}


@pytest.mark.django_db
def test_the_command_prints_each_step(kilimani):
    make_router(kilimani)
    out = StringIO()

    call_command("provision_router", "Kilimani Hotspot", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("provisioning Kilimani Hotspot")
    assert [line.split()[1] for line in lines[1:-1]] == [name for name, _ in provisioning.STEPS]
    assert lines[-1] == "Kilimani Hotspot is provisioned"


@pytest.mark.django_db
def test_the_command_says_where_it_stopped(kilimani):
    router = make_router(kilimani)
    kilimani.refuse["/radius/add"] = "failure: too many radius servers"

    with pytest.raises(CommandError, match="stopped at radius_client: /radius/add: failure: too many"):
        call_command("provision_router", str(router.pk), stdout=StringIO())
    with pytest.raises(CommandError, match="no router"):
        call_command("provision_router", "Nowhere", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_api_starts_provisioning_and_reports_its_progress(kilimani, client, technician):
    from .staff_kit import bearer
    router = make_router(kilimani)
    kilimani.refuse = {"/ip/hotspot/walled-garden/add": "failure: not allowed here"}
    started = client.post(f"/api/routers/{router.pk}/provision", **bearer(technician))
    assert started.status_code == 202  # eager Celery in the suite: the job has run by now
    status = client.get(f"/api/routers/{router.pk}/status", **bearer(technician)).json()
    job = status["provisioning"]
    assert job["id"] == started.json()["job_id"] and job["status"] == "failed"
    assert job["current_step"] == "walled_garden" and "not allowed here" in job["error"]
    assert 0 < job["percent"] < 100 and status["status"] == "error"
    kilimani.refuse = {}
    client.post(f"/api/routers/{router.pk}/provision", **bearer(technician))
    status = client.get(f"/api/routers/{router.pk}/status", **bearer(technician)).json()
    assert status["provisioning"]["status"] == "done" and status["provisioning"]["percent"] == 100
    assert status["status"] == "online"
    assert client.post("/api/routers/999999/provision", **bearer(technician)).status_code == 404
