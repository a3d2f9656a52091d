"""A technician gives a factory-default router a hotspot and a PPPoE service through the API: the
interface scan shows what is free, a port belongs to one service only, the WAN port and overlapping
networks are refused (409 with the reason), malformed bodies answer 422, every change is audited and
queues the provisioning run that applies it. All through the real routeros-api client against the
simulated router."""
import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from audit.models import Entry
from routers import live_data, provisioning, router_services, services
from routers.models import ProvisioningJob, Router, RouterService
from routers.routeros_simulator import RouterOSSimulator

from .staff_kit import bearer

PASSWORD = "kilimani-api-secret"


@pytest.fixture
def as_technician(client, technician):
    headers = bearer(technician)

    def call(method: str, url: str, body=None):
        return getattr(client, method)(url, json.dumps(body) if body is not None else None,
                                       content_type="application/json", **headers)
    return call


@pytest.fixture
def factory_new():
    """A router fresh out of its box: ether1 the WAN (a DHCP client), ether2..5 free."""
    with RouterOSSimulator(identity="Kilimani", password=PASSWORD, factory_default=True) as running:
        yield running


@pytest.fixture
def configured():
    """A router an operator set up: ether2..5 and wlan1 in their bridge, a hotspot on 10.5.50.0/24."""
    with RouterOSSimulator(identity="Rongai", password=PASSWORD) as running:
        yield running


def make_router(sim, name="Kilimani") -> Router:
    return services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_password=PASSWORD)


def add(call, router, kind, interfaces, network, **extra):
    return call("post", f"/api/routers/{router.pk}/services",
                {"kind": kind, "interfaces": interfaces, "network": network, **extra})


@pytest.mark.django_db
def test_the_scan_of_a_factory_default_router_shows_the_wan_and_four_free_ports(as_technician, factory_new):
    router = make_router(factory_new)

    response = as_technician("get", f"/api/routers/{router.pk}/interfaces")

    assert response.status_code == 200, response.content
    ports = {row["name"]: row for row in response.json()}
    assert list(ports) == ["ether1", "ether2", "ether3", "ether4", "ether5"]
    assert ports["ether1"] == {"name": "ether1", "type": "ether", "running": True,
                               "mac": factory_new.table("/interface").rows(name="ether1")[0]["mac-address"],
                               "used_by": "wan", "free": False}
    assert [(p["used_by"], p["free"], p["running"]) for n, p in ports.items() if n != "ether1"] == \
        [(None, True, False)] * 4


@pytest.mark.django_db
def test_a_hotspot_on_two_ports_and_pppoe_on_a_third_then_every_clash_is_refused(as_technician, factory_new):
    router = make_router(factory_new)

    hotspot = add(as_technician, router, "hotspot", ["ether2", "ether3"], "10.5.50.0/24")
    pppoe = add(as_technician, router, "pppoe", ["ether4"], "10.6.0.0/22")

    assert hotspot.status_code == 201, hotspot.content
    assert pppoe.status_code == 201, pppoe.content
    body = hotspot.json()
    assert {key: body[key] for key in ("kind", "name", "managed", "interfaces", "network", "gateway", "pool",
                                       "state", "on_router", "provisioned_at")} == {
        "kind": "hotspot", "name": "hotspot1", "managed": True, "interfaces": ["ether2", "ether3"],
        "network": "10.5.50.0/24", "gateway": "10.5.50.1", "pool": "hotspot1-pool", "state": "running",
        "on_router": False, "provisioned_at": None}
    assert (pppoe.json()["name"], pppoe.json()["gateway"]) == ("pppoe1", "10.6.0.1")
    service = RouterService.objects.get(pk=pppoe.json()["id"])
    assert (service.pool_range, service.profile_name) == ("10.6.0.2-10.6.2.255", "pppoe1-profile")
    # Adding only records the desired state: nothing is written to the router until it is provisioned.
    assert not ProvisioningJob.objects.filter(router=router).exists()
    assert not factory_new.table("/interface/bridge").rows()

    refusals = [
        (add(as_technician, router, "hotspot", ["ether4"], "10.7.0.0/24"), "interface_in_use", "pppoe1"),
        (add(as_technician, router, "pppoe", ["ether5", "ether3"], "10.7.0.0/24"), "interface_in_use", "hotspot1"),
        (add(as_technician, router, "hotspot", ["ether1"], "10.7.0.0/24"), "wan_interface", "WAN"),
        (add(as_technician, router, "hotspot", ["ether5"], "10.5.50.128/25"), "network_overlap", "hotspot1"),
        (add(as_technician, router, "pppoe", ["ether5"], "10.6.2.0/24"), "network_overlap", "pppoe1"),
        # The router's own WAN address (its DHCP lease) is on 192.168.1.0/24.
        (add(as_technician, router, "pppoe", ["ether5"], "192.168.0.0/16"), "network_overlap", "ether1"),
        (add(as_technician, router, "pppoe", ["ether5"], "10.99.3.0/24"), "network_overlap", "WireGuard"),
        (add(as_technician, router, "hotspot", ["ether9"], "10.7.0.0/24"), "unknown_interface", "ether9"),
        (add(as_technician, router, "hotspot", ["ether5"], "10.7.0.0/24", name="pppoe1"), "name_taken", "pppoe1"),
    ]
    for response, reason, named in refusals:
        assert response.status_code == 409, response.content
        assert response.json()["reason"] == reason and named in response.json()["detail"], response.json()
    assert RouterService.objects.filter(router=router).count() == 2

    ports = {row["name"]: row["used_by"] for row in as_technician("get", f"/api/routers/{router.pk}/interfaces").json()}
    assert ports == {"ether1": "wan", "ether2": "hotspot1", "ether3": "hotspot1", "ether4": "pppoe1", "ether5": None}
    # An address the operator gives ether5 makes it theirs.
    factory_new.table("/ip/address").insert(address="192.168.50.1/24", network="192.168.50.0", interface="ether5")
    scanned = {row["name"]: row for row in as_technician("get", f"/api/routers/{router.pk}/interfaces").json()}
    assert (scanned["ether5"]["used_by"], scanned["ether5"]["free"]) == ("address 192.168.50.1/24", False)
    refused = add(as_technician, router, "pppoe", ["ether5"], "10.7.0.0/24")
    assert (refused.json()["reason"], refused.json()["detail"]) == ("interface_in_use",
                                                                   "ether5 is already used by address 192.168.50.1/24")
    listed = as_technician("get", f"/api/routers/{router.pk}/services").json()
    assert [(s["kind"], s["name"]) for s in listed["results"]] == [("hotspot", "hotspot1"), ("pppoe", "pppoe1")]
    assert listed["free_network"] == "10.5.51.0/24"
    created = Entry.objects.filter(object_type="routers.routerservice", action="created")
    assert sorted(e.changes["name"][1] for e in created) == ["hotspot1", "pppoe1"]


@pytest.mark.django_db
def test_malformed_bodies_answer_422_and_record_nothing(as_technician, factory_new):
    router = make_router(factory_new)
    good = {"kind": "hotspot", "interfaces": ["ether2"], "network": "10.5.50.0/24"}
    bad = [
        {k: v for k, v in good.items() if k != "kind"},
        {**good, "kind": "vpn"},
        {**good, "interfaces": []},
        {**good, "interfaces": "ether2"},
        {**good, "interfaces": [7]},
        {**good, "network": "banana"},
        {**good, "network": "10.5.50.1/24"},          # host bits: the network is 10.5.50.0/24
        {**good, "network": "10.5.50.0"},             # no prefix length
        {**good, "network": "8.8.8.0/24"},            # not private
        {**good, "network": "10.0.0.0/8"},            # wider than /16
        {**good, "network": "10.5.50.0/31"},          # no room for clients
        {**good, "network": "fd00::/64"},
        {**good, "name": "hot spot"},
        {**good, "name": "x" * 41},
        {**good, "name": "hs1\n"},                   # a name becomes router item names and RADIUS's Framed-Pool
    ]
    for body in bad:
        response = as_technician("post", f"/api/routers/{router.pk}/services", body)
        assert response.status_code == 422, (body, response.content)
        assert response.json()["detail"]
    response = as_technician("post", f"/api/routers/{router.pk}/services", None)
    assert response.status_code == 422
    assert not RouterService.objects.exists() and not Entry.objects.filter(object_type="routers.routerservice")
    assert as_technician("post", f"/api/routers/{router.pk + 1}/services", good).status_code == 404


@pytest.mark.django_db
def test_change_stop_start_and_remove_are_audited_and_each_queues_a_provisioning_run(as_technician, factory_new):
    router = make_router(factory_new)
    hotspot = add(as_technician, router, "hotspot", ["ether2"], "10.5.50.0/24").json()
    pppoe = add(as_technician, router, "pppoe", ["ether4"], "10.6.0.0/24").json()
    url = f"/api/routers/{router.pk}/services/{pppoe['id']}"
    RouterService.objects.filter(pk=pppoe["id"]).update(provisioned_at="2026-12-04T09:00:00Z")

    moved = as_technician("patch", url, {"interfaces": ["ether4", "ether5"]})

    assert moved.status_code == 202, moved.content
    assert moved.json()["service"]["interfaces"] == ["ether4", "ether5"]
    assert moved.json()["service"]["provisioned_at"] is None  # changed since: not applied yet
    job = ProvisioningJob.objects.get(pk=moved.json()["job_id"])
    assert job.router == router and moved.json()["status"] == "queued"
    # Its own ports and network are no clash with itself; the hotspot's port is.
    assert as_technician("patch", url, {"interfaces": ["ether5"], "network": "10.6.0.0/23"}).status_code == 202
    refused = as_technician("patch", url, {"interfaces": ["ether2"]})
    assert (refused.status_code, refused.json()["reason"]) == (409, "interface_in_use")
    refused = as_technician("patch", url, {"network": "10.5.50.0/25"})
    assert (refused.status_code, refused.json()["reason"]) == (409, "network_overlap")
    assert as_technician("patch", url, {"network": "10.6.0.1/24"}).status_code == 422
    assert as_technician("patch", url, {"interfaces": []}).status_code == 422
    # Nothing to change: no run queued, nothing audited.
    assert as_technician("patch", url, {}).json()["job_id"] is None

    stopped = as_technician("post", f"{url}/stop")
    assert (stopped.status_code, stopped.json()["service"]["state"]) == (202, "stopped")
    started = as_technician("post", f"{url}/start")
    assert (started.status_code, started.json()["service"]["state"]) == (202, "running")
    removed = as_technician("delete", url)
    assert (removed.status_code, removed.json()["service"]["state"]) == (202, "removing")
    # Marked for removal, it is not changed any more (provisioning takes it away, then the row).
    for method, path in (("patch", url), ("post", f"{url}/start"), ("post", f"{url}/stop")):
        response = as_technician(method, path, {"network": "10.6.8.0/24"} if method == "patch" else None)
        assert (response.status_code, response.json()["reason"]) == (409, "service_removing")
    # One run for the router at a time: every change rode on the queued one.
    assert set(ProvisioningJob.objects.filter(router=router).values_list("pk", flat=True)) == {job.pk}

    trail = Entry.objects.filter(object_type="routers.routerservice", object_id=str(pppoe["id"])).order_by("pk")
    assert [(e.action, e.actor_name) for e in trail] == [
        ("created", "tabitha"), ("changed", "tabitha"), ("changed", "tabitha"), ("stopped", "tabitha"),
        ("started", "tabitha"), ("removal_requested", "tabitha")]
    assert trail[1].changes == {"interfaces": [["ether4"], ["ether4", "ether5"]]}
    assert trail[3].changes == {"state": ["running", "stopped"]}
    assert RouterService.objects.get(pk=hotspot["id"]).state == "running"
    missing = as_technician("post", f"/api/routers/{router.pk}/services/{pppoe['id'] + 100}/stop")
    assert missing.status_code == 404


@pytest.mark.django_db
def test_on_an_operators_router_their_bridge_and_addresses_are_theirs(as_technician, configured):
    router = make_router(configured, name="Rongai")

    ports = {row["name"]: row for row in as_technician("get", f"/api/routers/{router.pk}/interfaces").json()}

    assert {name: ports[name]["used_by"] for name in ("ether2", "ether5", "wlan1", "bridge")} == {
        "ether2": "bridge", "ether5": "bridge", "wlan1": "bridge", "bridge": "hotspot1"}
    assert ports["bridge"]["free"] is False and ports["wlan1"]["type"] == "wlan"
    refused = add(as_technician, router, "hotspot", ["ether3"], "10.7.0.0/24")
    assert (refused.json()["reason"], refused.json()["detail"]) == ("interface_in_use",
                                                                   "ether3 is already used by bridge")
    refused = add(as_technician, router, "pppoe", ["bridge"], "10.7.0.0/24")
    assert refused.json()["reason"] == "unknown_interface" and "not a port" in refused.json()["detail"]
    # Once the operator frees ether5 from their bridge, it is ours to use, but not their networks.
    port = configured.table("/interface/bridge/port").rows(interface="ether5")[0]
    configured.table("/interface/bridge/port").delete(port[".id"])
    refused = add(as_technician, router, "pppoe", ["ether5"], "10.5.50.0/26")
    assert refused.json()["reason"] == "network_overlap" and "10.5.50.1/24 on bridge" in refused.json()["detail"]
    assert router_services.free_network(router) == "10.5.51.0/24"
    assert add(as_technician, router, "pppoe", ["ether5"], "10.5.51.0/24").json()["name"] == "pppoe1"
    # Their hotspot server's name is theirs, though the live-data job has not seen it yet.
    port = configured.table("/interface/bridge/port").rows(interface="ether4")[0]
    configured.table("/interface/bridge/port").delete(port[".id"])
    refused = add(as_technician, router, "hotspot", ["ether4"], "10.5.52.0/24", name="hotspot1")
    assert (refused.status_code, refused.json()["reason"]) == (409, "name_taken")
    assert add(as_technician, router, "hotspot", ["ether4"], "10.5.52.0/24").json()["name"] == "hotspot2"


@pytest.mark.django_db
def test_a_router_that_cannot_be_asked_answers_502_and_nothing_is_recorded(as_technician, factory_new):
    router = make_router(factory_new)
    factory_new.set_dead("refused")

    response = add(as_technician, router, "hotspot", ["ether2"], "10.5.50.0/24")

    assert (response.status_code, response.json()["reason"]) == (502, "unreachable")
    assert as_technician("get", f"/api/routers/{router.pk}/interfaces").status_code == 502
    assert not RouterService.objects.exists()
    # The list still answers, its suggestion from what we know.
    listed = as_technician("get", f"/api/routers/{router.pk}/services")
    assert (listed.status_code, listed.json()["free_network"]) == (200, "10.5.50.0/24")


@pytest.mark.django_db
def test_the_list_of_services_costs_a_fixed_number_of_queries(as_technician, factory_new):
    router = make_router(factory_new)
    for n in range(2, 5):
        router_services.add_service(router, kind="pppoe", interfaces=[f"ether{n}"], network=f"10.6.{n}.0/24")
    as_technician("get", f"/api/routers/{router.pk}/services")
    with CaptureQueriesContext(connection) as queries:
        response = as_technician("get", f"/api/routers/{router.pk}/services")
    assert len(response.json()["results"]) == 3
    # token, two for permissions, the router, the services, the managed services' networks
    assert len(queries) == 6, [q["sql"] for q in queries]


@pytest.mark.django_db
def test_live_data_keeps_our_services_and_folds_a_pppoe_service_on_two_ports_into_its_row(factory_new):
    router = make_router(factory_new)
    Router.objects.filter(pk=router.pk).update(status="online")
    service = router_services.add_service(router, kind="pppoe", interfaces=["ether4", "ether5"],
                                          network="10.6.0.0/24")
    servers = factory_new.table("/interface/pppoe-server/server")
    for port in ("ether4", "ether5"):  # as provisioning leaves them: one server per port, one service-name
        servers.insert(service_name="pppoe1", interface=port, default_profile="default", disabled="false")
    factory_new.login_ppp("254711000111")

    live_data.fetch_all()

    service.refresh_from_db()
    assert (service.on_router, service.interface, service.active_users, service.running) == \
        (True, "ether4,ether5", 1, True)
    assert RouterService.objects.filter(router=router).count() == 1
    for row in servers.rows():
        servers.delete(row[".id"])
    live_data.fetch_all()
    service.refresh_from_db()
    assert (service.on_router, service.active_users, service.managed) == (False, 0, True)


@pytest.mark.django_db
def test_once_provisioned_the_scan_names_our_services_and_a_removed_one_frees_its_port(as_technician, factory_new,
                                                                                        our_servers):
    router = services.create_router(name="Kilimani", host="127.0.0.1", api_port=factory_new.port,
                                    api_password=PASSWORD, radius_secret="kilimani-radius-secret")
    add(as_technician, router, "hotspot", ["ether2", "ether3"], "10.5.50.0/24")
    pppoe = add(as_technician, router, "pppoe", ["ether4"], "10.6.0.0/24").json()
    started = as_technician("post", f"/api/routers/{router.pk}/provision").json()

    assert provisioning.run_job(started["job_id"]).status == "done"

    ports = {row["name"]: row["used_by"] for row in as_technician("get", f"/api/routers/{router.pk}/interfaces").json()}
    assert ports == {"ether1": "wan", "ether2": "hotspot1", "ether3": "hotspot1", "ether4": "pppoe1",
                     "ether5": None, "hotspot1-bridge": "hotspot1"}
    listed = {s["name"]: s for s in as_technician("get", f"/api/routers/{router.pk}/services").json()["results"]}
    assert listed["hotspot1"]["provisioned_at"] and listed["pppoe1"]["provisioned_at"]
    # The hotspot's gateway address, now on the router, clashes with another service's network...
    refused = add(as_technician, router, "pppoe", ["ether5"], "10.5.50.64/26")
    assert (refused.json()["reason"], refused.json()["detail"]) == (
        "network_overlap", "10.5.50.64/26 overlaps hotspot1's network 10.5.50.0/24")
    # ...not with the hotspot's own change.
    moved = as_technician("patch", f"/api/routers/{router.pk}/services/{listed['hotspot1']['id']}",
                          {"interfaces": ["ether2", "ether3", "ether5"], "network": "10.5.48.0/22"})
    assert moved.status_code == 202, moved.content
    assert provisioning.run_job(moved.json()["job_id"]).status == "done"

    removed = as_technician("delete", f"/api/routers/{router.pk}/services/{pppoe['id']}")
    assert provisioning.run_job(removed.json()["job_id"]).status == "done"

    assert not RouterService.objects.filter(pk=pppoe["id"]).exists()
    scan = {row["name"]: row for row in as_technician("get", f"/api/routers/{router.pk}/interfaces").json()}
    assert (scan["ether4"]["used_by"], scan["ether4"]["free"]) == (None, True)
    assert scan["ether5"]["used_by"] == "hotspot1"
    again = add(as_technician, router, "pppoe", ["ether4"], "10.6.0.0/24")
    assert (again.status_code, again.json()["name"]) == (201, "pppoe1")


@pytest.mark.django_db(transaction=True)
def test_two_technicians_adding_services_on_one_port_at_once_get_one_service(factory_new):
    router = make_router(factory_new)
    start, outcomes = threading.Barrier(2), []

    def add_hotspot(network):
        try:
            start.wait()
            outcomes.append(router_services.add_service(router, kind="hotspot", interfaces=["ether2"],
                                                        network=network).name)
        except router_services.ServiceConflict as conflict:
            outcomes.append(conflict.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add_hotspot, args=(network,)) for network in ("10.5.50.0/24", "10.5.60.0/24")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["hotspot1", "interface_in_use"]
    assert RouterService.objects.filter(router=router).count() == 1
