"""Actions on a live router, through the real RouterOS API client to the simulator: a technician
backs it up, restores, reboots (polling sees it come back), reads its log and live figures, ends
hotspot and PPPoE sessions; a Disconnect the NAS refuses or ignores ends the session over the API.
Every change is logged with who did it; Support and Finance are refused."""
import asyncio
import json
import re
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from lib import live
from radius import coa
from radius import services as radius
from radius.models import CoaAttempt, RadAcct
from radius.nas_simulator import NAK, SILENT, NasSimulator
from routers import actions, polling, services
from routers.models import Router, RouterBackup, ServiceControlLog
from routers.routeros import RouterCommandRefused, RouterUnreachable
from routers.routeros_simulator import RouterOSSimulator

from .staff_kit import bearer

API_PASSWORD = "kilimani-api-secret"
NAS_SECRET = "kilimani-coa-secret"
WAMBUI, JUMA = "254712345678", "254733000111"


@pytest.fixture(autouse=True)
def short_timeouts(settings):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = 1
    settings.RADIUS_COA_TIMEOUT = 1
    settings.RADIUS_COA_RETRIES = 1


@pytest.fixture
def kilimani():
    with RouterOSSimulator(identity="Kilimani Hotspot", password=API_PASSWORD, reboot_seconds=1.0) as running:
        yield running


def make_router(sim: RouterOSSimulator, name="Kilimani Hotspot") -> Router:
    return services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                  api_password=API_PASSWORD)


def logged(action: str) -> list[tuple]:
    return list(ServiceControlLog.objects.filter(action=action).order_by("pk")
                .values_list("outcome", "user__username", "detail"))


def wait_until_back(sim: RouterOSSimulator, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while sim._rebooting and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sim._rebooting


# --- backup, restore, reboot -----------------------------------------------------------------------

@pytest.mark.django_db
def test_a_backup_is_saved_on_the_router_and_recorded_with_its_size(kilimani, technician):
    router = make_router(kilimani)

    backup = actions.backup(router, technician)

    assert re.fullmatch(r"hotspot-billing-\d{8}-\d{6}", backup.name)
    [file] = kilimani.table("/file").rows(name=f"{backup.name}.backup")
    assert backup.size == int(file["size"]) > 0 and file["type"] == "backup"
    assert f"{backup.name}.backup" in kilimani.backups
    assert (backup.router, backup.created_by) == (router, technician)
    assert logged("backup") == [("ok", "tabitha", f"{backup.name}.backup, {backup.size} bytes")]


@pytest.mark.django_db
def test_two_backups_in_one_second_keep_two_files(kilimani, technician, monkeypatch):
    router = make_router(kilimani)
    moment, localtime = timezone.now(), timezone.localtime
    monkeypatch.setattr(actions.timezone, "localtime", lambda *args: localtime(moment))

    first, second = actions.backup(router, technician), actions.backup(router, technician)

    assert second.name == f"{first.name}-2"
    assert {f"{first.name}.backup", f"{second.name}.backup"} <= set(kilimani.backups)


@pytest.mark.django_db
def test_restore_loads_the_backup_and_the_router_reboots_into_it(kilimani, technician):
    router = make_router(kilimani)
    backup = actions.backup(router, technician)
    [identity] = kilimani.table("/system/identity").items.values()
    identity["name"] = "Renamed By Someone"

    actions.restore(backup, technician)

    assert kilimani.reboots == 1
    wait_until_back(kilimani)
    assert kilimani.table("/system/identity").rows()[0]["name"] == "Kilimani Hotspot"
    backup.refresh_from_db()
    router.refresh_from_db()
    assert backup.restored_at is not None and router.reboot_requested_at == backup.restored_at
    assert logged("restore") == [("ok", "tabitha", f"loaded {backup.name}.backup; the router reboots")]


@pytest.mark.django_db
def test_restoring_a_backup_the_router_no_longer_has_is_refused_and_logged(kilimani, technician):
    router = make_router(kilimani)
    backup = actions.backup(router, technician)
    [file] = kilimani.table("/file").rows(name=f"{backup.name}.backup")
    kilimani.table("/file").delete(file[".id"])
    kilimani.backups.clear()

    with pytest.raises(RouterCommandRefused, match="no such file"):
        actions.restore(backup, technician)

    assert kilimani.reboots == 0
    router.refresh_from_db()
    assert router.reboot_requested_at is None
    [(outcome, user, detail)] = logged("restore")
    assert (outcome, user) == ("failed", "tabitha") and "no such file" in detail


@pytest.mark.django_db(transaction=True)
def test_reboot_drops_the_connection_and_the_poll_after_it_is_back_says_so(kilimani, technician):
    router = make_router(kilimani)
    polling.poll_all()
    assert Router.objects.get(pk=router.pk).status == "online"

    actions.reboot(router, technician)

    assert kilimani.reboots == 1
    router.refresh_from_db()
    assert router.reboot_requested_at is not None and router.status == "online"  # until polling sees it
    assert logged("reboot") == [("ok", "tabitha", "reboot requested")]
    polling.poll_all()  # still booting: offline, and still rebooting
    router.refresh_from_db()
    assert router.status == "offline" and router.reboot_requested_at is not None

    wait_until_back(kilimani)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.ADMIN, channel)
    polling.poll_all()

    router.refresh_from_db()
    assert router.status == "online" and router.reboot_requested_at is None
    [requested, back] = logged("reboot")
    assert back[0] == "ok" and back[1] is None and re.fullmatch(r"back after \d+ s", back[2])

    async def status_event() -> dict:
        while True:
            for event in live.events_in(await asyncio.wait_for(layer.receive(channel), timeout=5)):
                if event["event"] == polling.STATUS_EVENT:
                    return event["data"]

    event = async_to_sync(status_event)()
    assert (event["id"], event["status"], event["rebooting"]) == (router.pk, "online", False)

    polling.poll_all()  # nothing more to say
    assert len(logged("reboot")) == 2


@pytest.mark.django_db
def test_a_router_that_answers_with_its_old_uptime_long_after_is_no_longer_rebooting(kilimani, technician):
    router = make_router(kilimani)
    Router.objects.filter(pk=router.pk).update(
        reboot_requested_at=timezone.now() - timezone.timedelta(seconds=polling.REBOOT_GRACE_SECONDS + 60))

    polling.poll_all()

    router.refresh_from_db()
    assert router.reboot_requested_at is None
    [(outcome, _, detail)] = logged("reboot")
    assert outcome == "failed" and detail.startswith("did not restart")


@pytest.mark.django_db
def test_a_reboot_of_a_dead_router_fails_and_is_logged(kilimani, technician):
    router = make_router(kilimani)
    kilimani.set_dead("refused")

    with pytest.raises(RouterUnreachable):
        actions.reboot(router, technician)

    router.refresh_from_db()
    assert router.reboot_requested_at is None
    [(outcome, user, detail)] = logged("reboot")
    assert (outcome, user) == ("failed", "tabitha") and detail.startswith("unreachable")


# --- reading the router ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_logs_are_the_newest_lines_oldest_first_and_filter_by_topic(kilimani):
    router = make_router(kilimani)
    for n in range(30):
        kilimani.log("system,info", f"line {n}")
    kilimani.log("hotspot,account,info", f"{WAMBUI} (10.5.50.10): logged in")
    kilimani.log("system,info", "last line")

    lines = actions.logs(router, limit=3)
    assert [line["message"] for line in lines] == [  # the last one: our own API login, read in the same session
        f"{WAMBUI} (10.5.50.10): logged in", "last line", "user admin logged in from 127.0.0.1 via api"]
    assert set(lines[0]) == {"id", "time", "topics", "message"}

    hotspot = actions.logs(router, limit=100, topics="hotspot")
    assert [line["message"] for line in hotspot] == [f"{WAMBUI} (10.5.50.10): logged in"]
    assert actions.logs(router, topics=["critical"]) == []
    with pytest.raises(actions.InvalidAction):
        actions.logs(router, limit=0)


@pytest.mark.django_db
def test_stats_are_live_with_moving_counters_and_who_is_online(kilimani):
    router = make_router(kilimani)
    kilimani.login_hotspot(WAMBUI, address="10.5.50.10", mac_address="AA:BB:CC:00:00:01", uptime=120)
    kilimani.login_ppp(JUMA, address="10.10.0.2", caller_id="AA:BB:CC:00:00:02", uptime=3600)
    # RouterOS counts a PPPoE session's bytes on its dynamic interface, not in /ppp/active.
    kilimani.table("/interface").insert(name=f"<pppoe-{JUMA}>", type="pppoe-in", running="true", dynamic="true",
                                        rx_byte="5000", tx_byte="90000")

    first = actions.stats(router)
    time.sleep(0.3)
    second = actions.stats(router)

    resource = first["resource"]
    assert 0 <= resource["cpu_load"] <= 100 and 0 < resource["memory_used_pct"] < 100
    assert resource["uptime_seconds"] > 3 * 86400 and resource["version"].startswith("7.16")
    assert resource["board_name"] == "hAP ac^2"
    ports = {row["name"]: row for row in first["interfaces"]}
    assert f"<pppoe-{JUMA}>" not in ports and {"ether1", "bridge", "wlan1"} <= set(ports)
    assert ports["ether1"]["rx_bps"] > 0 and ports["ether3"]["rx_bps"] == 0
    later = {row["name"]: row for row in second["interfaces"]}
    assert later["ether1"]["rx_bytes"] > ports["ether1"]["rx_bytes"]
    assert later["ether1"]["tx_bytes"] > ports["ether1"]["tx_bytes"]
    [user] = first["hotspot"]["users"]
    assert first["hotspot"]["count"] == 1
    assert (user["user"], user["address"], user["mac_address"]) == (WAMBUI, "10.5.50.10", "AA:BB:CC:00:00:01")
    assert user["uptime_seconds"] >= 120 and user["bytes_out"] > 0
    assert second["hotspot"]["users"][0]["bytes_out"] > user["bytes_out"]
    [ppp] = first["ppp"]["users"]
    assert (ppp["user"], ppp["address"], ppp["mac_address"], ppp["service"]) == (
        JUMA, "10.10.0.2", "AA:BB:CC:00:00:02", "pppoe")
    assert ppp["uptime_seconds"] >= 3600 and (ppp["bytes_in"], ppp["bytes_out"]) == (5000, 90000)


@pytest.mark.django_db
def test_rates_come_from_two_counter_reads_when_monitor_traffic_is_refused(kilimani):
    router = make_router(kilimani)
    kilimani.refuse["/interface/monitor-traffic"] = "no such command"

    ports = {row["name"]: row for row in actions.stats(router)["interfaces"]}

    assert ports["ether1"]["rx_bps"] > 0 and ports["ether1"]["tx_bps"] > 0


# --- ending sessions ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_kicking_a_hotspot_user_ends_only_their_sessions(kilimani, technician):
    router = make_router(kilimani)
    kilimani.login_hotspot(WAMBUI)
    kilimani.login_hotspot(WAMBUI)
    kilimani.login_hotspot(JUMA)

    assert actions.kick(router, kind="hotspot", user=WAMBUI, by=technician) == 2
    assert [row["user"] for row in kilimani.table("/ip/hotspot/active").rows()] == [JUMA]
    assert actions.kick(router, kind="hotspot", user=WAMBUI, by=technician) == 0  # twice is harmless
    assert logged("kick") == [("ok", "tabitha", f"hotspot user {WAMBUI}: 2 removed"),
                              ("ok", "tabitha", f"hotspot user {WAMBUI}: 0 removed")]


@pytest.mark.django_db
def test_kicking_a_pppoe_session_by_its_id(kilimani, technician):
    router = make_router(kilimani)
    session = kilimani.login_ppp(JUMA)
    kilimani.login_ppp(WAMBUI)

    assert actions.kick(router, kind="pppoe", session_id=session, by=technician) == 1

    assert [row["name"] for row in kilimani.table("/ppp/active").rows()] == [WAMBUI]


@pytest.mark.django_db
def test_a_kick_needs_a_kind_and_one_of_user_or_session(kilimani, technician):
    router = make_router(kilimani)
    for bad in ({"kind": "wifi", "user": WAMBUI}, {"kind": "hotspot"},
                {"kind": "hotspot", "user": WAMBUI, "session_id": "*1"}):
        with pytest.raises(actions.InvalidAction):
            actions.kick(router, by=technician, **bad)
    assert not ServiceControlLog.objects.filter(action="kick").exists()


# --- the CoA fallback ----------------------------------------------------------------------------------

@pytest.fixture
def nas():
    with NasSimulator(secret=NAS_SECRET.encode()) as simulator:
        yield simulator


def open_session(username: str, ip: str, session_id="81a00001") -> RadAcct:
    return RadAcct.objects.create(acct_session_id=session_id, acct_unique_id=f"u-{session_id}", username=username,
                                  nas_ip_address="127.0.0.1", framed_ip_address=ip, acct_start_time=timezone.now())


@pytest.mark.django_db
@pytest.mark.parametrize("answer", [NAK, SILENT])
def test_a_disconnect_the_nas_does_not_take_is_done_over_the_api(kilimani, nas, answer):
    router = make_router(kilimani)
    radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", description=f"router {router.pk}", coa_port=nas.port)
    kilimani.login_hotspot(WAMBUI, address="10.5.50.10")
    kilimani.login_hotspot(WAMBUI, address="10.5.50.11")  # the customer's second device stays
    nas.answer(WAMBUI, answer)

    attempt = coa.disconnect(open_session(WAMBUI, "10.5.50.10"), requested_by="samuel")

    assert attempt.outcome == (CoaAttempt.Outcome.NAK if answer == NAK else CoaAttempt.Outcome.TIMEOUT)
    assert attempt.api_kicked == 1 and attempt.ended
    assert f"CoA failed ({attempt.outcome}), kicked over the API: Kilimani Hotspot: 1 ended" in attempt.detail
    assert [row["address"] for row in kilimani.table("/ip/hotspot/active").rows(user=WAMBUI)] == ["10.5.50.11"]
    stored = CoaAttempt.objects.get()
    assert stored.api_kicked == 1 and "kicked over the API" in stored.detail
    [(outcome, user, detail)] = logged("kick")
    assert (outcome, user) == ("ok", None) and detail == f"CoA fallback for samuel: {WAMBUI} (1)"


@pytest.mark.django_db
def test_an_acknowledged_disconnect_needs_no_fallback(kilimani, nas):
    router = make_router(kilimani)
    radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", description=f"router {router.pk}", coa_port=nas.port)
    kilimani.login_hotspot(WAMBUI, address="10.5.50.10")

    attempt = coa.disconnect(open_session(WAMBUI, "10.5.50.10"))

    assert attempt.outcome == CoaAttempt.Outcome.ACK and attempt.api_kicked is None
    assert len(kilimani.table("/ip/hotspot/active")) == 1  # the (simulated) NAS did it, not the API
    assert not ServiceControlLog.objects.filter(action="kick").exists()


@pytest.mark.django_db
def test_a_sweep_falls_back_per_router_and_finds_the_router_by_its_host(kilimani, nas):
    make_router(kilimani)  # no RADIUS secret: found by Router.host == the NAS address
    radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", coa_port=nas.port)
    kilimani.login_hotspot(WAMBUI, address="10.5.50.10")
    kilimani.login_ppp(JUMA, address="10.10.0.2")
    nas.default = SILENT

    attempts = coa.disconnect_many([open_session(WAMBUI, "10.5.50.10", "a1"), open_session(JUMA, "10.10.0.2", "a2")],
                                   requested_by="expiry")

    assert [(a.username, a.outcome, a.api_kicked) for a in attempts] == [(WAMBUI, "timeout", 1), (JUMA, "timeout", 1)]
    assert len(kilimani.table("/ip/hotspot/active")) == 0 and len(kilimani.table("/ppp/active")) == 0
    assert sorted(CoaAttempt.objects.values_list("api_kicked", flat=True)) == [1, 1]
    [(outcome, _, detail)] = logged("kick")
    assert outcome == "ok" and detail == f"CoA fallback for expiry: {WAMBUI} (1), {JUMA} (1)"


@pytest.mark.django_db
def test_when_the_router_is_dead_too_the_attempt_says_so(kilimani, nas):
    router = make_router(kilimani)
    radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", description=f"router {router.pk}", coa_port=nas.port)
    nas.answer(WAMBUI, NAK)
    kilimani.set_dead("refused")

    attempt = coa.disconnect(open_session(WAMBUI, "10.5.50.10"))

    assert attempt.outcome == CoaAttempt.Outcome.NAK and attempt.api_kicked == 0 and not attempt.ended
    assert "kicked over the API: Kilimani Hotspot: unreachable" in attempt.detail
    assert logged("kick")[0][0] == "failed"


@pytest.mark.django_db
def test_the_session_disconnect_endpoint_counts_an_api_kick_as_done(kilimani, nas, support_agent, client):
    router = make_router(kilimani)
    radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", description=f"router {router.pk}", coa_port=nas.port)
    kilimani.login_hotspot(WAMBUI, address="10.5.50.10")
    nas.answer(WAMBUI, NAK)
    session = open_session(WAMBUI, "10.5.50.10")

    response = client.post(f"/api/hotspot/sessions/{session.pk}/disconnect", **bearer(support_agent))

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "nak" and response.json()["api_kicked"] == 1


# --- the API -----------------------------------------------------------------------------------------

def call(client, user, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, json.dumps(body) if body is not None else None,
                                   content_type="application/json", **bearer(user))


@pytest.mark.django_db
def test_support_and_finance_may_not_act_on_routers(kilimani, client, support_agent, finance_clerk):
    router = make_router(kilimani)
    backup = RouterBackup.objects.create(router=router, name="hotspot-billing-20260101-000000")
    base = f"/api/routers/{router.pk}"
    for user in (support_agent, finance_clerk):
        for method, url, body in (("post", "/backup", None), ("get", "/backups", None),
                                  ("post", "/restore", {"backup_id": backup.pk}), ("post", "/reboot", None),
                                  ("get", "/stats", None), ("get", "/logs", None),
                                  ("post", "/kick", {"kind": "hotspot", "user": WAMBUI}),
                                  ("get", "/drift", None), ("post", "/sync", None)):
            assert call(client, user, method, base + url, body).status_code == 403, (user, url)
    assert kilimani.reboots == 0 and not kilimani.backups
    assert not ServiceControlLog.objects.exclude(action="create").exists()


@pytest.mark.django_db
def test_a_technician_backs_up_lists_restores_and_reboots(kilimani, client, technician):
    router = make_router(kilimani)
    base = f"/api/routers/{router.pk}"

    made = call(client, technician, "post", base + "/backup")
    assert made.status_code == 201, made.content
    assert made.json()["size"] > 0 and made.json()["created_by"] == "tabitha"
    listed = call(client, technician, "get", base + "/backups").json()
    assert [row["id"] for row in listed] == [made.json()["id"]]

    restored = call(client, technician, "post", base + "/restore", {"backup_id": made.json()["id"]})
    assert restored.status_code == 202 and restored.json()["reboot_requested_at"]
    status = call(client, technician, "get", base + "/status").json()
    assert status["rebooting"] is True and status["reboot_requested_at"]
    wait_until_back(kilimani)

    rebooted = call(client, technician, "post", base + "/reboot")
    assert rebooted.status_code == 202 and kilimani.reboots == 2
    assert call(client, technician, "post", base + "/restore", {"backup_id": 999999}).status_code == 404


@pytest.mark.django_db
def test_a_technician_reads_stats_and_logs_and_kicks(kilimani, client, technician):
    router = make_router(kilimani)
    kilimani.login_hotspot(WAMBUI)
    base = f"/api/routers/{router.pk}"

    stats = call(client, technician, "get", base + "/stats")
    assert stats.status_code == 200 and stats.json()["hotspot"]["users"][0]["user"] == WAMBUI
    lines = call(client, technician, "get", base + "/logs?limit=5&topics=hotspot")
    assert lines.status_code == 200 and [line["message"] for line in lines.json()][-1].startswith(WAMBUI)
    assert call(client, technician, "get", base + "/logs?limit=0").status_code == 422

    kicked = call(client, technician, "post", base + "/kick", {"kind": "hotspot", "user": WAMBUI})
    assert kicked.status_code == 200 and kicked.json() == {"removed": 1}
    assert call(client, technician, "post", base + "/kick", {"kind": "hotspot"}).status_code == 422
    assert call(client, technician, "post", base + "/kick", {"kind": "wifi", "user": WAMBUI}).status_code == 422
    assert call(client, technician, "get", "/api/routers/999999/stats").status_code == 404


@pytest.mark.django_db
def test_a_dead_router_answers_502_unreachable_and_the_attempt_is_logged(kilimani, client, technician):
    router = make_router(kilimani)
    kilimani.set_dead("refused")
    base = f"/api/routers/{router.pk}"

    for method, url, body in (("post", "/backup", None), ("post", "/reboot", None), ("get", "/stats", None),
                              ("get", "/logs", None), ("post", "/kick", {"kind": "pppoe", "user": JUMA}),
                              ("get", "/drift", None)):
        response = call(client, technician, method, base + url, body)
        assert response.status_code == 502, (url, response.content)
        assert response.json()["reason"] == "unreachable" and response.json()["detail"]
    assert sorted(ServiceControlLog.objects.filter(outcome="failed").values_list("action", flat=True)) == [
        "backup", "kick", "reboot"]
