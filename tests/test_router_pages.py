"""Router pages: technicians list, add, change and watch routers; the live-data job fills in their
services and access points; a provisioning run's page follows it over its own websocket."""
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from config.asgi import application
from lib import live
from radius.models import Nas
from routers import live_data, polling, services
from routers.models import AccessPoint, ProvisioningJob, Router, RouterSample, RouterService
from routers.routeros_simulator import RouterOSSimulator

from .lists_kit import assert_flat_queries

PASSWORD = "api-secret-1"
AP_MAC = "4C:5E:0C:10:00:01"


@pytest.fixture
def sim():
    with RouterOSSimulator(identity="Kilimani Hotspot", password=PASSWORD) as running:
        yield running


def add_router(sim, name="Kilimani Hotspot", **extra) -> Router:
    return services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_password=PASSWORD, **extra)


@pytest.mark.django_db
def test_only_technicians_and_admins_reach_router_pages(signed_in, sim):
    router = add_router(sim)
    pages = ["/routers/", "/routers/add/", f"/routers/{router.pk}/", f"/routers/{router.pk}/edit/",
             "/routers/access-points/", "/routers/services/", f"/routers/{router.pk}/traffic/"]
    for role in (SUPPORT, FINANCE):
        client = signed_in(role)
        assert {client.get(page).status_code for page in pages} == {403}
    client = signed_in(TECHNICIAN)
    assert {client.get(page).status_code for page in pages} == {200}
    client.logout()
    assert client.get("/routers/").status_code == 302


@pytest.mark.django_db
def test_the_list_shows_status_load_and_users_in_a_fixed_number_of_queries(signed_in):
    def fill(start, count):
        now = timezone.now()
        for n in range(start, start + count):
            router = Router.objects.create(name=f"Site {n:03d}", host=f"10.0.{n}.1",
                                           status="online" if n % 3 else "offline")
            RouterSample.objects.create(router=router, taken_at=now - timedelta(minutes=1), cpu_load=1)
            RouterSample.objects.create(router=router, taken_at=now, cpu_load=n % 100, memory_used_pct=40.5,
                                        active_users=n)

    client = signed_in(TECHNICIAN)
    fill(1, 5)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/routers/").status_code == 200
    fill(6, 40)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/routers/")
    assert len(many) == len(few), [q["sql"] for q in many]
    html = page.content.decode()
    assert "Site 045" in html and ">45</td>" in html and "45%" in html  # the latest sample's figures
    online = client.get("/routers/?status=offline").content.decode()
    assert "Site 003" in online and "Site 004" not in online
    partial = client.get("/routers/?q=Site 01", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="results"') and "Site 010" in partial and "Site 020" not in partial


def make_routers(numbers):
    now = timezone.now()
    for n in numbers:
        router = Router.objects.create(name=f"Site {n:03d}", host=f"10.0.{n}.1")
        RouterSample.objects.create(router=router, taken_at=now, cpu_load=n, memory_used_pct=40.5, active_users=n)


def _kilimani() -> Router:
    return Router.objects.get_or_create(name="Kilimani Hotspot", defaults={"host": "10.0.0.1"})[0]


def make_access_points(numbers):
    AccessPoint.objects.bulk_create(AccessPoint(router=_kilimani(), name=f"AP {n:02d}",
                                                mac_address=f"4C:5E:0C:10:01:{n:02X}") for n in numbers)


def make_services(numbers):
    RouterService.objects.bulk_create(RouterService(router=_kilimani(), kind="hotspot", name=f"hotspot{n}")
                                      for n in numbers)


# Each list page of /routers/: how to make its rows, and its queries whatever their number: session,
# user, 2x perms, roles, the pager's count, the page's rows, what the page adds, session save (3).
LIST_PAGES = {
    "/routers/": (make_routers, 11),  # + routers by status for the tabs (the latest sample is a subquery)
    "/routers/access-points/": (make_access_points, 11),  # + the routers for the Router select
    "/routers/services/": (make_services, 11),  # + the routers for the Router select
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_PAGES)
def test_each_list_page_costs_the_same_queries_for_2_rows_or_40(url, signed_in, django_assert_num_queries):
    make_rows, queries = LIST_PAGES[url]
    assert_flat_queries(signed_in(TECHNICIAN), url, make_rows, queries, django_assert_num_queries)


@pytest.mark.django_db
def test_a_router_added_on_the_page_gets_its_radius_client_and_its_secrets_are_never_shown(signed_in, sim):
    client = signed_in(TECHNICIAN)
    refused = client.post("/routers/add/", {"name": "Rongai", "host": "not a host!", "api_username": "admin"})
    assert refused.status_code == 200 and "neither an IP address nor a host name" in refused.content.decode()
    done = client.post("/routers/add/", {"name": "Rongai", "site": "Ongata Rongai", "host": "127.0.0.1",
                                         "api_port": sim.port, "api_username": "admin", "api_password": PASSWORD,
                                         "radius_secret": "radius-secret-9"})
    router = Router.objects.get(name="Rongai")
    assert done.status_code == 302 and done["Location"] == f"/routers/{router.pk}/"
    assert Nas.objects.get(nasname="127.0.0.1").secret == "radius-secret-9"
    edit = client.get(f"/routers/{router.pk}/edit/").content.decode()
    detail = client.get(f"/routers/{router.pk}/").content.decode()
    for html in (edit, detail):
        assert PASSWORD not in html and "radius-secret-9" not in html
    # An edit with the secrets left empty keeps them.
    client.post(f"/routers/{router.pk}/edit/", {"name": "Rongai Main", "host": "127.0.0.1", "api_port": sim.port,
                                                "api_username": "admin"})
    router.refresh_from_db()
    assert (router.name, router.api_password, router.radius_secret) == ("Rongai Main", PASSWORD, "radius-secret-9")
    taken = client.post("/routers/add/", {"name": "Rongai Main", "host": "127.0.0.2", "api_username": "admin"})
    assert "already exists" in taken.content.decode()


@pytest.mark.django_db
def test_test_connection_learns_the_router_and_removal_takes_its_radius_client(signed_in, sim):
    router = add_router(sim, radius_secret="radius-secret-2")
    client = signed_in(TECHNICIAN)
    page = client.post(f"/routers/{router.pk}/test/", follow=True).content.decode()
    assert "Connected: Kilimani Hotspot, RouterOS" in page
    router.refresh_from_db()
    assert router.status == "online" and router.identity == "Kilimani Hotspot"
    sim.set_dead("refused")
    page = client.post(f"/routers/{router.pk}/test/", follow=True).content.decode()
    assert "did not answer as expected (unreachable)" in page
    client = signed_in(ADMIN)
    client.post(f"/routers/{router.pk}/delete/")
    assert not Router.objects.filter(pk=router.pk).exists() and not Nas.objects.filter(nasname="127.0.0.1").exists()


@pytest.mark.django_db
def test_the_router_page_draws_the_last_hour_and_live_rates_come_from_the_router(signed_in, sim):
    router = add_router(sim)
    client = signed_in(TECHNICIAN)
    assert "Not enough checks yet" in client.get(f"/routers/{router.pk}/").content.decode()
    for minutes_ago in (2, 1, 0):  # three checks a minute apart: two rates to draw
        polling.poll_all()
        RouterSample.objects.filter(router=router, taken_at__gt=timezone.now() - timedelta(seconds=30)).update(
            taken_at=timezone.now() - timedelta(minutes=minutes_ago))
    html = client.get(f"/routers/{router.pk}/").content.decode()
    assert '<polyline class="rx" points="' in html and "peak" in html and 'class="y-axis"' in html
    router.refresh_from_db()
    assert router.version.startswith("7.")  # learned by the checks, not only by Test connection
    live_rates = client.get(f"/routers/{router.pk}/traffic/").json()
    ports = {port["name"]: port for port in live_rates["interfaces"]}
    assert set(ports) == {"ether1", "ether2", "ether3", "ether4", "ether5", "wlan1"}  # physical ports only
    assert ports["ether1"]["rx_bps"] > 0 and live_rates["rx_bps"] == sum(p["rx_bps"] for p in ports.values())
    sim.set_dead("refused")
    from django.core.cache import cache
    cache.clear()
    failed = client.get(f"/routers/{router.pk}/traffic/")
    assert failed.status_code == 502 and failed.json()["reason"] == "unreachable"


@pytest.mark.django_db
def test_live_data_records_services_and_access_points(signed_in, sim):
    router = add_router(sim)
    Router.objects.filter(pk=router.pk).update(status="online")
    point = AccessPoint.objects.create(router=router, name="Cafe AP", mac_address=AP_MAC, interface="ether3")
    elsewhere = AccessPoint.objects.create(router=router, name="Roof AP", mac_address="4C:5E:0C:10:00:02",
                                           interface="ether4")
    sim.attach_device(AP_MAC, port="ether3", address="192.168.88.11")
    for n in range(3):
        mac = f"02:00:5E:00:00:{n:02X}"
        sim.login_hotspot(f"2547000000{n}", mac_address=mac)
        sim.attach_device(mac, port="ether3")
    sim.table("/interface/pppoe-server/server").insert(service_name="pppoe-estate", interface="ether5",
                                                       default_profile="default")
    sim.table("/interface/pppoe-server/server").insert(service_name="pppoe-estate", interface="ether4",
                                                       default_profile="default", disabled="true")
    sim.login_ppp("254711000111")

    summary = live_data.fetch_all()

    assert summary["routers"] == 1 and summary["access_points_online"] == 1
    point.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (point.status, point.clients) == ("online", 3) and point.last_seen_at
    assert (elsewhere.status, elsewhere.clients) == ("offline", 0)
    found = {(s.kind, s.name): s for s in RouterService.objects.filter(router=router)}
    assert set(found) == {("hotspot", "hotspot1"), ("pppoe", "pppoe-estate"), ("pppoe", "pppoe-estate (ether4)")}
    assert found[("hotspot", "hotspot1")].active_users == 3 and found[("pppoe", "pppoe-estate")].active_users == 1
    assert found[("hotspot", "hotspot1")].interface == "bridge"

    # The AP goes dark; the PPPoE server is removed on the router; then the router stops answering.
    sim.detach_device(AP_MAC)
    for row in sim.table("/interface/pppoe-server/server").rows():
        sim.table("/interface/pppoe-server/server").delete(row[".id"])
    live_data.fetch_all()
    point.refresh_from_db()
    assert point.status == "offline"
    assert list(RouterService.objects.values_list("name", flat=True)) == ["hotspot1"]
    sim.set_dead("refused")
    live_data.fetch_all(timeout=1)
    point.refresh_from_db()
    assert point.status == "unknown"

    client = signed_in(TECHNICIAN)
    html = client.get("/routers/services/").content.decode()
    assert "hotspot1" in html and "Kilimani Hotspot" in html
    assert "Cafe AP" in client.get(f"/routers/access-points/?router={router.pk}").content.decode()


@pytest.mark.django_db
def test_access_points_are_added_checked_and_removed_on_their_pages(signed_in, sim):
    router = add_router(sim)
    client = signed_in(TECHNICIAN)
    bad = client.post("/routers/access-points/add/", {"name": "Gate", "router": router.pk, "mac_address": "nope"})
    assert "Enter a MAC address like" in bad.content.decode()
    client.post("/routers/access-points/add/", {"name": "Gate", "router": router.pk, "mac_address": "4c5e0c100009",
                                                "interface": "ether2", "location": "Estate gate"})
    point = AccessPoint.objects.get(name="Gate")
    assert point.mac_address == "4C:5E:0C:10:00:09" and point.status == "unknown"
    duplicate = client.post("/routers/access-points/add/", {"name": "Gate 2", "router": router.pk,
                                                            "mac_address": "4C-5E-0C-10-00-09"})
    assert "already exists" in duplicate.content.decode()
    client.post(f"/routers/access-points/{point.pk}/", {"name": "Main gate", "router": router.pk,
                                                        "mac_address": point.mac_address, "interface": "ether2"})
    point.refresh_from_db()
    assert point.name == "Main gate"
    client.post(f"/routers/access-points/{point.pk}/delete/")
    assert not AccessPoint.objects.exists()
    assert list(router.actions.values_list("action", flat=True)[:3]) == ["ap-remove", "ap-change", "ap-add"]


@pytest.mark.django_db
def test_provisioning_from_the_page_shows_every_step(signed_in, sim, settings,
                                                    django_capture_on_commit_callbacks):
    settings.RADIUS_SERVER_ADDRESS = "10.8.0.1"
    router = add_router(sim, radius_secret="radius-secret-1")
    client = signed_in(TECHNICIAN)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/routers/{router.pk}/provision/")
    job = ProvisioningJob.objects.get(router=router)
    assert started["Location"] == f"/routers/{router.pk}/provisioning/{job.pk}/"
    html = client.get(started["Location"]).content.decode()  # eager Celery in the suite: it has run
    assert 'aria-valuenow="100"' in html and "RADIUS client pointed at our server" in html
    assert html.count('data-step-status="ok"') == len(job.steps)
    partial = client.get(started["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section id="progress"') and "every 3s" not in partial  # finished: no poll


def websocket(client, path):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.django_db(transaction=True)
def test_a_provisioning_run_is_heard_on_its_own_websocket_by_technicians_only(signed_in):
    router = Router.objects.create(name="Ruaka", host="10.9.9.9")
    job = ProvisioningJob.objects.create(router=router, steps=[{"name": "radius_client", "status": "pending",
                                                                "message": ""}])
    path = f"/ws/routers/provisioning/{job.pk}/"

    @async_to_sync
    async def listen(ws, publish):
        connected, code = await ws.connect()
        if not connected:
            return code, None
        hello = await ws.receive_json_from(timeout=2)
        await publish()
        event = await ws.receive_json_from(timeout=2)
        await ws.disconnect()
        return hello, event

    async def publish():
        from channels.db import database_sync_to_async

        await database_sync_to_async(live.publish)(live.provisioning_group(job.pk), "provisioning.progress",
                                                   {"job": job.pk, "percent": 100})

    client = signed_in(SUPPORT)
    assert listen(websocket(client, path), publish) == (4403, None)
    assert listen(websocket(None, path), publish) == (4403, None)
    client = signed_in(TECHNICIAN)
    assert listen(websocket(client, "/ws/routers/provisioning/999999/"), publish) == (4403, None)
    hello, event = listen(websocket(client, path), publish)
    assert hello["data"]["groups"] == [f"provisioning.{job.pk}"]
    assert event == {"event": "provisioning.progress", "data": {"job": job.pk, "percent": 100}}


@pytest.mark.django_db
def test_the_router_page_acts_on_the_router(signed_in, sim):
    router = add_router(sim)
    sim.login_hotspot("254700000001", mac_address="02:00:5E:00:00:01")
    sim.login_ppp("254711000111")
    client = signed_in(TECHNICIAN)

    sessions = client.get(f"/routers/{router.pk}/sessions/", HTTP_HX_REQUEST="true").content.decode()
    assert "254700000001" in sessions and "254711000111" in sessions and "Disconnect" in sessions
    [row] = sim.table("/ip/hotspot/active").rows()
    done = client.post(f"/routers/{router.pk}/kick/", {"kind": "hotspot", "session_id": row[".id"],
                                                      "user": "254700000001"}, follow=True).content.decode()
    assert "254700000001 disconnected from Kilimani Hotspot" in done and not sim.table("/ip/hotspot/active").rows()
    refused = client.post(f"/routers/{router.pk}/kick/", {"kind": "wifi", "user": "x"}, follow=True)
    assert refused.status_code == 200 and "kind" in refused.content.decode()

    logs = client.get(f"/routers/{router.pk}/logs/").content.decode()
    assert "logged in" in logs

    saved = client.post(f"/routers/{router.pk}/backup/", follow=True).content.decode()
    backup = router.backups.get()
    assert f"Backup {backup.name}.backup saved" in saved and f"{backup.name}.backup" in saved  # listed too
    drift_panel = client.get(f"/routers/{router.pk}/drift/").content.decode()
    assert "The router differs from what billing needs" in drift_panel and "would added /radius" not in drift_panel
    assert 'data-drift-step="radius_client" data-drift-status="failed"' in drift_panel  # no RADIUS secret yet

    rebooted = client.post(f"/routers/{router.pk}/reboot/", follow=True).content.decode()
    assert "is restarting" in rebooted and "rebooting" in rebooted
    router.refresh_from_db()
    assert router.reboot_requested_at is not None
    sim.set_dead("refused")
    down = client.post(f"/routers/{router.pk}/backup/", follow=True).content.decode()
    assert "Backup failed on Kilimani Hotspot (unreachable)" in down
    assert "did not answer (unreachable)" in client.get(f"/routers/{router.pk}/sessions/").content.decode()
    assert list(router.actions.values_list("action", "outcome")[:4]) == [  # the page's drift look: not logged
        ("backup", "failed"), ("reboot", "ok"), ("backup", "ok"), ("kick", "ok")]


@pytest.mark.django_db
def test_drift_found_on_the_page_is_repaired_by_a_provisioning_run(signed_in, sim, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.RADIUS_SERVER_ADDRESS = "10.8.0.1"
    router = add_router(sim, radius_secret="radius-secret-3")
    from routers import provisioning
    provisioning.run_job(provisioning.start_job(router).pk)
    client = signed_in(TECHNICIAN)
    assert "The router matches what billing needs" in client.get(f"/routers/{router.pk}/drift/").content.decode()
    [radius_client] = sim.table("/radius").rows()
    sim.table("/radius").items[radius_client[".id"]]["secret"] = "changed-on-site"  # behind our back
    panel = client.get(f"/routers/{router.pk}/drift/").content.decode()
    assert 'data-drift-step="radius_client" data-drift-status="drift"' in panel and "changed-on-site" not in panel
    with django_capture_on_commit_callbacks(execute=True):
        repaired = client.post(f"/routers/{router.pk}/repair/")
    job = router.provisioning_jobs.order_by("-pk").first()
    assert repaired["Location"] == f"/routers/{router.pk}/provisioning/{job.pk}/" and job.status == "done"
    assert sim.table("/radius").rows()[0]["secret"] == "radius-secret-3"
    assert "The router matches what billing needs" in client.get(f"/routers/{router.pk}/drift/").content.decode()


@pytest.mark.django_db
def test_api_ssl_with_the_routers_own_certificate_pinned(signed_in):
    with RouterOSSimulator(identity="Secure Tower", password=PASSWORD, tls=True) as secure:
        client = signed_in(TECHNICIAN)
        fields = {"name": "Secure Tower", "host": "127.0.0.1", "api_port": secure.port, "use_tls": "on",
                  "api_username": "admin", "api_password": PASSWORD}
        bad = client.post("/routers/add/", {**fields, "tls_certificate": "-----BEGIN CERTIFICATE-----\nnope"})
        assert "tls_certificate is not a PEM certificate" in bad.content.decode()
        client.post("/routers/add/", fields)  # no certificate: a public CA would have to vouch for it
        router = Router.objects.get(name="Secure Tower")
        failed = client.post(f"/routers/{router.pk}/test/", follow=True).content.decode()
        assert "(unreachable)" in failed and "CERTIFICATE_VERIFY_FAILED" in failed

        exported = f"Bag Attributes\n    friendlyName: api-ssl\nsubject=CN = Secure Tower\n{secure.certificate_pem}"
        client.post(f"/routers/{router.pk}/edit/", {**fields, "tls_certificate": exported})
        router.refresh_from_db()
        assert router.tls_certificate.startswith("-----BEGIN CERTIFICATE-----")  # the export's header dropped
        assert "Connected: Secure Tower" in client.post(f"/routers/{router.pk}/test/", follow=True).content.decode()
        assert polling.poll_all()["online"] == 1  # the checks pin it too
        assert "its certificate pinned" in client.get(f"/routers/{router.pk}/").content.decode()


@pytest.mark.django_db
def test_a_reboot_between_two_checks_is_a_gap_in_the_traffic_not_a_spike():
    from routers import traffic

    router = Router.objects.create(name="Ruaka", host="10.9.9.9")
    now = timezone.now()
    for minutes_ago, rx, uptime in ((3, 1_000_000, 9_000), (2, 1_600_000, 9_060), (1, 9_000_000_000, 20),
                                    (0, 9_000_600_000, 80)):
        RouterSample.objects.create(router=router, taken_at=now - timedelta(minutes=minutes_ago), rx_bytes=rx,
                                    tx_bytes=rx // 10, uptime_seconds=uptime)

    points = traffic.history(router)

    # 600 kB a minute before and after; the boot (uptime 20 s after a 60 s gap) draws nothing.
    assert [point["rx_bps"] for point in points] == [80_000, 80_000]
