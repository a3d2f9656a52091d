"""Router services on a factory-default router: a technician adds a hotspot on ether2+ether3 and a
PPPoE server on ether4, and provisioning builds each from nothing (bridge, address, pool, DHCP, DNS,
NAT, profiles, servers, RADIUS), through the real RouterOS API client against the simulator. Running
it again changes nothing; a stopped service's server is disabled; a removed service takes away
exactly its own items, never the operator's."""
import json

import pytest

from audit.models import Entry
from routers import drift, provisioning, router_services
from routers.models import ProvisioningJob, Router, RouterService
from routers.routeros import RouterClient, RouterCommandRefused
from routers.routeros_simulator import RouterOSSimulator

from .routers_kit import API_PASSWORD, TAG, WRITES, make_router
from .staff_kit import bearer

pytestmark = pytest.mark.usefixtures("our_servers")

HOTSPOT, PPPOE = f"{TAG}: service hotspot1: ", f"{TAG}: service pppoe1: "
SHARED = f"{TAG}: services: "


@pytest.fixture
def githurai():
    """A router fresh from the factory: ether1 leased an address upstream, nothing else is set up."""
    with RouterOSSimulator(identity="Githurai", password=API_PASSWORD, factory_default=True) as running:
        yield running


def add_services(router: Router) -> tuple[RouterService, RouterService]:
    hotspot = router_services.add_service(router, kind="hotspot", interfaces=["ether2", "ether3"],
                                          network="10.5.50.0/24")
    pppoe = router_services.add_service(router, kind="pppoe", interfaces=["ether4"], network="10.6.0.0/24")
    assert (hotspot.name, pppoe.name) == ("hotspot1", "pppoe1")
    return hotspot, pppoe


def provision(router: Router) -> ProvisioningJob:
    """A provisioning run, the one a change queued (its worker's start is after commit) or a new one."""
    return provisioning.run_job(provisioning.start_job(router).pk)


def steps(job: ProvisioningJob) -> dict:
    return {step["name"]: (step["status"], step["message"]) for step in job.steps}


def shown(sim: RouterOSSimulator, path: str, *keys: str) -> list[tuple]:
    """Every item of the menu (ours and the router's own), as the given properties."""
    return [tuple(row.get(key) for key in keys) for row in sim.table(path).rows()]


def wan_address(sim: RouterOSSimulator) -> str:
    return sim.table("/ip/dhcp-client").rows()[0]["address"]


@pytest.mark.django_db
def test_a_factory_default_router_is_built_up_to_serve_hotspot_and_pppoe_exactly(githurai):
    router = make_router(githurai, name="Githurai")
    add_services(router)

    job = provision(router)

    assert job.status == "done", job.steps
    assert {status for status, _ in steps(job).values()} == {"ok"}
    assert shown(githurai, "/interface/bridge", "name", "comment") == [("hotspot1-bridge", HOTSPOT + "bridge")]
    assert shown(githurai, "/interface/bridge/port", "bridge", "interface", "comment") == [
        ("hotspot1-bridge", "ether2", HOTSPOT + "port ether2"), ("hotspot1-bridge", "ether3", HOTSPOT + "port ether3")]
    assert [(row["name"], row["slave"]) for row in githurai.table("/interface").rows(type="ether")] == [
        ("ether1", "false"), ("ether2", "true"), ("ether3", "true"), ("ether4", "false"), ("ether5", "false")]
    assert shown(githurai, "/ip/address", "address", "interface", "dynamic", "comment") == [
        (wan_address(githurai), "ether1", "true", None),
        ("10.5.50.1/24", "hotspot1-bridge", "false", HOTSPOT + "gateway")]
    assert shown(githurai, "/ip/pool", "name", "ranges", "comment") == [
        ("hotspot1-pool", "10.5.50.2-10.5.50.191", HOTSPOT + "pool"),
        ("pppoe1-pool", "10.6.0.2-10.6.0.191", PPPOE + "pool")]
    assert shown(githurai, "/ip/dhcp-server", "name", "interface", "address-pool", "lease-time", "disabled",
                 "invalid", "comment") == [
        ("hotspot1-dhcp", "hotspot1-bridge", "hotspot1-pool", "1h", "false", "false", HOTSPOT + "dhcp")]
    assert shown(githurai, "/ip/dhcp-server/network", "address", "gateway", "dns-server", "comment") == [
        ("10.5.50.0/24", "10.5.50.1", "10.5.50.1", HOTSPOT + "dhcp network")]
    [dns] = githurai.table("/ip/dns").rows()
    assert dns["allow-remote-requests"] == "true"
    assert shown(githurai, "/ip/firewall/address-list", "list", "address", "comment") == [
        ("hotspot-billing-dns-clients", "10.5.50.0/24", HOTSPOT + "dns clients"),
        ("hotspot-billing-dns-clients", "10.6.0.0/24", PPPOE + "dns clients"),
        ("hotspot-grace-allowed", "wifi.example.net", f"{TAG}: portal")]
    assert [row.get("in-interface") for row in githurai.table("/ip/firewall/filter").rows()] == [
        None, None, "ether1", "ether1", None, None]
    assert shown(githurai, "/ip/firewall/filter", "chain", "action", "protocol", "dst-port", "src-address-list",
                 "comment") == [
        ("input", "accept", "udp", "53", "hotspot-billing-dns-clients", SHARED + "dns from our clients (udp)"),
        ("input", "accept", "tcp", "53", "hotspot-billing-dns-clients", SHARED + "dns from our clients (tcp)"),
        ("input", "drop", "udp", "53", None, SHARED + "dns from the internet (udp)"),
        ("input", "drop", "tcp", "53", None, SHARED + "dns from the internet (tcp)"),
        ("forward", "accept", None, None, "hotspot-grace", f"{TAG}: grace may reach the portal"),
        ("forward", "drop", None, None, "hotspot-grace", f"{TAG}: grace reaches nothing else")]
    assert shown(githurai, "/ip/firewall/nat", "chain", "action", "src-address", "out-interface", "disabled",
                 "comment") == [
        ("srcnat", "masquerade", "10.5.50.0/24", "ether1", "false", HOTSPOT + "nat"),
        ("srcnat", "masquerade", "10.6.0.0/24", "ether1", "false", PPPOE + "nat")]
    assert shown(githurai, "/ip/hotspot/profile", "name", "hotspot-address", "dns-name", "html-directory",
                 "login-by", "use-radius", "radius-accounting", "radius-interim-update", "comment") == [
        ("default", None, None, "hotspot", "cookie,http-chap", "false", "true", "received", None),
        ("hotspot1-profile", "10.5.50.1", "login.wifi.example.net", "hotspot", "http-chap,http-pap,mac-cookie",
         "true", "true", "5m", None)]
    assert shown(githurai, "/ip/hotspot", "name", "interface", "address-pool", "profile", "disabled", "invalid",
                 "comment") == [
        ("hotspot1", "hotspot1-bridge", "hotspot1-pool", "hotspot1-profile", "false", "false", HOTSPOT + "server")]
    [page] = githurai.table("/file").rows(name="hotspot/login.html")
    assert page["contents"] == provisioning.login_html(router)
    assert [row["dst-host"] for row in githurai.table("/ip/hotspot/walled-garden").rows()] == [
        "wifi.example.net", "sandbox.safaricom.co.ke"]
    assert shown(githurai, "/ppp/profile", "name", "local-address", "remote-address", "dns-server", "change-tcp-mss",
                 "only-one", "comment") == [
        ("default", None, None, None, "default", "default", None),
        ("default-encryption", None, None, None, "default", "default", None),
        ("pppoe1-profile", "10.6.0.1", "pppoe1-pool", "10.6.0.1", "yes", "yes", PPPOE + "profile")]
    assert shown(githurai, "/interface/pppoe-server/server", "service-name", "interface", "default-profile",
                 "one-session-per-host", "authentication", "disabled", "comment") == [
        ("pppoe1", "ether4", "pppoe1-profile", "true", "pap,chap,mschap2", "false", PPPOE + "server ether4")]
    [aaa] = githurai.table("/ppp/aaa").rows()
    assert (aaa["use-radius"], aaa["accounting"], aaa["interim-update"]) == ("true", "true", "5m")
    [radius] = githurai.table("/radius").rows()
    assert radius["service"] == "hotspot,ppp"
    assert githurai.table("/radius/incoming").rows()[0]["accept"] == "true"
    assert set(RouterService.objects.filter(provisioned_at__isnull=False).values_list("name", flat=True)) == {
        "hotspot1", "pppoe1"}


@pytest.mark.django_db
def test_provisioning_again_changes_nothing_and_drift_finds_nothing(githurai):
    router = make_router(githurai, name="Githurai")
    add_services(router)
    provision(router)
    before = {path: githurai.table(path).rows() for path in githurai.tables if not githurai.table(path).menu.dynamic
              and path not in ("/interface", "/file", "/user")}  # traffic counters, login times
    seen = len(githurai.commands)

    again = provision(router)

    assert again.status == "done"
    assert set(steps(again).values()) == {("ok", "unchanged")}
    assert not [command for command in list(githurai.commands)[seen:] if command.endswith(WRITES)]
    assert {path: githurai.table(path).rows() for path in before} == before
    assert drift.check(router) == []


@pytest.mark.django_db
def test_drift_sees_a_service_not_yet_built_and_a_port_someone_took_out(githurai):
    router = make_router(githurai, name="Githurai")
    add_services(router)

    found = [(item.step, item.what) for item in drift.check(router)]

    assert ("hotspot_services", f"would add /interface/bridge '{HOTSPOT}bridge'") in found
    assert ("hotspot_services", "would add /ip/hotspot/profile 'hotspot1-profile'") in found
    assert ("pppoe_services", f"would add /interface/pppoe-server/server '{PPPOE}server ether4'") in found
    assert ("service_dns", f"would add /ip/firewall/filter '{SHARED}dns from the internet (tcp)'") in found
    assert ("removed_services", "would remove service pppoe1") not in found
    assert not githurai.table("/interface/bridge").rows()  # a dry run writes nothing

    provision(router)
    [port] = githurai.table("/interface/bridge/port").rows(interface="ether3")
    githurai.table("/interface/bridge/port").delete(port[".id"])

    assert [(item.step, item.what) for item in drift.check(router)] == [
        ("hotspot_services", "would add /interface/bridge/port 'hotspot-billing: service hotspot1: port ether3'")]


@pytest.mark.django_db
def test_a_stopped_service_keeps_its_items_with_its_server_disabled_and_starts_again(githurai):
    router = make_router(githurai, name="Githurai")
    hotspot, pppoe = add_services(router)
    provision(router)

    router_services.stop_service(hotspot)
    _, job = router_services.stop_service(pppoe)
    job = provisioning.run_job(job.pk)

    assert job.status == "done", job.steps
    assert shown(githurai, "/ip/hotspot", "name", "disabled") == [("hotspot1", "true")]
    # No address and no way out for a hotspot's devices while it is stopped: no free access around it.
    assert shown(githurai, "/ip/dhcp-server", "name", "disabled") == [("hotspot1-dhcp", "true")]
    assert shown(githurai, "/ip/firewall/nat", "src-address", "disabled") == [
        ("10.5.50.0/24", "true"), ("10.6.0.0/24", "false")]
    assert shown(githurai, "/interface/pppoe-server/server", "service-name", "disabled") == [("pppoe1", "true")]
    assert len(githurai.table("/interface/bridge").rows()) == 1 and len(githurai.table("/ip/pool").rows()) == 2

    router_services.start_service(hotspot)
    router_services.start_service(pppoe)
    provision(router)

    assert shown(githurai, "/ip/hotspot", "name", "disabled") == [("hotspot1", "false")]
    assert shown(githurai, "/interface/pppoe-server/server", "service-name", "disabled") == [("pppoe1", "false")]


@pytest.mark.django_db
def test_removing_the_pppoe_service_takes_away_only_its_items(githurai):
    router = make_router(githurai, name="Githurai")
    # The operator's own pool, NAT rule and PPP profile, there before we came.
    githurai.table("/ip/pool").insert(name="staff-pool", ranges="192.168.50.10-192.168.50.99")
    githurai.table("/ip/firewall/nat").insert(chain="srcnat", action="masquerade", out_interface="ether1",
                                              comment="staff masquerade")
    githurai.table("/ppp/profile").insert(name="staff-vpn", local_address="192.168.50.1", remote_address="staff-pool")
    hotspot, pppoe = add_services(router)
    provision(router)
    hotspot_items = {path: [row for row in githurai.table(path).rows() if row.get("comment", "").startswith(HOTSPOT)]
                     for path in githurai.tables}

    _, job = router_services.remove_service(pppoe)
    job = provisioning.run_job(job.pk)

    assert job.status == "done", job.steps
    assert not [(path, row) for path in githurai.tables for row in githurai.table(path).rows()
                if row.get("comment", "").startswith(PPPOE)]
    assert {path: [row for row in githurai.table(path).rows() if row.get("comment", "").startswith(HOTSPOT)]
            for path in githurai.tables} == hotspot_items
    assert shown(githurai, "/ip/pool", "name") == [("staff-pool",), ("hotspot1-pool",)]
    assert shown(githurai, "/ip/firewall/nat", "comment") == [("staff masquerade",), (HOTSPOT + "nat",)]
    assert shown(githurai, "/ppp/profile", "name") == [("default",), ("default-encryption",), ("staff-vpn",)]
    assert not githurai.table("/interface/pppoe-server/server").rows()
    assert list(RouterService.objects.filter(router=router).values_list("name", flat=True)) == ["hotspot1"]
    assert steps(job)["removed_services"] == ("ok", "removed service pppoe1")
    [entry] = Entry.objects.filter(action="deleted", object_type="routers.routerservice")
    assert (entry.object_id, entry.note) == (str(pppoe.pk), "router Githurai: its items taken off the router")
    assert provision(router).status == "done" and drift.check(router) == []


@pytest.mark.django_db
def test_a_router_without_a_default_route_is_told_why_its_services_cannot_be_built(githurai):
    router = make_router(githurai, name="Githurai")
    add_services(router)
    for route in githurai.table("/ip/route").rows():
        githurai.table("/ip/route").delete(route[".id"])

    job = provision(router)

    assert job.status == "failed"
    assert steps(job)["hotspot_services"] == ("failed", "the router has no default route, so its WAN port (for the "
                                              "services' NAT) is unknown: give it one (a DHCP client or a static "
                                              "route) first")
    assert not githurai.table("/interface/bridge").rows()


@pytest.mark.django_db
def test_a_changed_network_and_ports_are_set_in_place_and_a_dropped_port_leaves_the_bridge(githurai):
    router = make_router(githurai, name="Githurai")
    hotspot, _ = add_services(router)
    provision(router)
    ids = {path: [row[".id"] for row in githurai.table(path).rows()] for path in ("/ip/pool", "/ip/hotspot")}

    _, job = router_services.update_service(hotspot, network="10.5.60.0/24", interfaces=["ether2"])
    job = provisioning.run_job(job.pk)

    assert job.status == "done", job.steps
    assert f"removed /interface/bridge/port '{HOTSPOT}port ether3'" in steps(job)["hotspot_services"][1]
    assert shown(githurai, "/interface/bridge/port", "interface") == [("ether2",)]
    assert githurai.table("/interface").rows(name="ether3")[0]["slave"] == "false"
    assert shown(githurai, "/ip/address", "address", "comment")[1:] == [("10.5.60.1/24", HOTSPOT + "gateway")]
    assert shown(githurai, "/ip/pool", "name", "ranges")[0] == ("hotspot1-pool", "10.5.60.2-10.5.60.191")
    assert shown(githurai, "/ip/dhcp-server/network", "address", "gateway", "dns-server") == [
        ("10.5.60.0/24", "10.5.60.1", "10.5.60.1")]
    assert githurai.table("/ip/hotspot/profile").rows(name="hotspot1-profile")[0]["hotspot-address"] == "10.5.60.1"
    assert shown(githurai, "/ip/firewall/nat", "src-address")[0] == ("10.5.60.0/24",)
    assert ("10.5.60.0/24", HOTSPOT + "dns clients") in shown(githurai, "/ip/firewall/address-list", "address",
                                                                   "comment")
    # Set in place, not removed and added again: the pool and the server keep their ids.
    assert {path: [row[".id"] for row in githurai.table(path).rows()] for path in ids} == ids


@pytest.mark.django_db
def test_a_technician_adds_both_services_and_provisions_through_the_api(client, technician, githurai,
                                                                        django_capture_on_commit_callbacks):
    router = make_router(githurai, name="Githurai")
    headers = bearer(technician)

    def post(url, body=None):
        return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)

    assert post(f"/api/routers/{router.pk}/services", {
        "kind": "hotspot", "interfaces": ["ether2", "ether3"], "network": "10.5.50.0/24"}).status_code == 201
    assert post(f"/api/routers/{router.pk}/services", {
        "kind": "pppoe", "interfaces": ["ether4"], "network": "10.6.0.0/24"}).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):  # the worker's run, here (tasks run eagerly)
        started = post(f"/api/routers/{router.pk}/provision")

    assert started.status_code == 202
    status = client.get(f"/api/routers/{router.pk}/status", **headers).json()
    assert (status["status"], status["provisioning"]["status"], status["provisioning"]["percent"]) == (
        "online", "done", 100)
    assert [step["name"] for step in status["provisioning"]["steps"]] == [name for name, _ in provisioning.STEPS]
    assert shown(githurai, "/ip/hotspot", "name", "interface", "disabled") == [
        ("hotspot1", "hotspot1-bridge", "false")]
    assert shown(githurai, "/interface/pppoe-server/server", "service-name", "interface", "disabled") == [
        ("pppoe1", "ether4", "false")]
    services = client.get(f"/api/routers/{router.pk}/services", **headers).json()["results"]
    assert [(service["name"], bool(service["provisioned_at"])) for service in services] == [
        ("hotspot1", True), ("pppoe1", True)]


@pytest.mark.django_db
def test_a_refusal_stops_at_the_service_step_in_the_routers_words_and_a_retry_finishes(githurai):
    router = make_router(githurai, name="Githurai")
    add_services(router)
    githurai.refuse["/interface/pppoe-server/server/add"] = "failure: pppoe package is disabled"

    failed = provision(router)

    assert failed.status == "failed"
    assert steps(failed)["hotspot_services"][0] == "ok"
    assert steps(failed)["pppoe_services"] == (
        "failed", "/interface/pppoe-server/server/add: failure: pppoe package is disabled")
    assert shown(githurai, "/ip/hotspot", "name") == [("hotspot1",)]
    assert not githurai.table("/interface/pppoe-server/server").rows()

    githurai.refuse.clear()
    retried = provision(router)

    assert retried.status == "done", retried.steps
    assert steps(retried)["hotspot_services"] == ("ok", "unchanged")
    # The pool and PPP profile the failed run added are there: the retry goes on from the server.
    assert steps(retried)["pppoe_services"][1].startswith(
        f"added /interface/pppoe-server/server '{PPPOE}server ether4'; added /ip/firewall/nat '{PPPOE}nat'")


@pytest.mark.django_db
def test_with_every_service_removed_the_resolver_we_opened_stays_closed_to_the_internet(githurai):
    router = make_router(githurai, name="Githurai")
    hotspot, pppoe = add_services(router)
    provision(router)

    router_services.remove_service(hotspot)
    router_services.remove_service(pppoe)
    job = provision(router)

    assert job.status == "done", job.steps
    assert not RouterService.objects.filter(router=router).exists()
    assert not [(path, row) for path in githurai.tables for row in githurai.table(path).rows()
                if row.get("comment", "").startswith(f"{TAG}: service ")]
    assert githurai.table("/ip/dns").rows()[0]["allow-remote-requests"] == "true"
    assert shown(githurai, "/ip/firewall/filter", "action", "in-interface", "comment")[:2] == [
        ("drop", "ether1", SHARED + "dns from the internet (udp)"),
        ("drop", "ether1", SHARED + "dns from the internet (tcp)")]

    githurai.table("/ip/dns").items[next(iter(githurai.table("/ip/dns").items))]["allow-remote-requests"] = "false"
    closed = provision(router)  # stops at hotspot_profile: the router serves no one now, and says so

    assert steps(closed)["hotspot_profile"][0] == "failed"
    assert steps(closed)["service_dns"][1].startswith("removed /ip/firewall/filter")
    assert not [row for row in githurai.table("/ip/firewall/filter").rows() if row["comment"].startswith(SHARED)]


def test_the_factory_default_simulator_refuses_and_defaults_as_routeros_does(githurai):
    with RouterClient("127.0.0.1", githurai.port, "admin", API_PASSWORD) as client:
        assert [row["name"] for row in client.print("/interface")] == ["ether1", "ether2", "ether3", "ether4", "ether5"]
        [route] = client.print("/ip/route", **{"dst-address": "0.0.0.0/0"})
        assert (route["immediate-gw"].split("%")[1], route["dynamic"], route["dhcp"]) == ("ether1", "true", "true")
        assert client.print("/ip/dns")[0]["allow-remote-requests"] == "false"
        assert not client.print("/interface/bridge") and not client.print("/ip/hotspot")
        assert not client.print("/ip/firewall/filter") and not client.print("/ip/firewall/nat")
        client.add("/interface/bridge", name="lan")
        client.add("/interface/bridge/port", bridge="lan", interface="ether2")
        client.add("/ip/pool", name="lan-pool", ranges="10.9.0.2-10.9.0.254")
        client.add("/ip/dhcp-server", interface="lan", address_pool="lan-pool")
        # Servers are added disabled unless told otherwise (exports always say disabled=no).
        assert [(row["name"], row["disabled"]) for row in client.print("/ip/dhcp-server")] == [("dhcp1", "true")]
        refusals = [
            ("/interface/bridge/port", {"bridge": "lan", "interface": "ether2"}),
            ("/ip/dhcp-server", {"interface": "lan"}),
            ("/ip/pool", {"name": "bad", "ranges": "10.9.1.9-10.9.1.2"}),
            ("/ip/hotspot/profile", {"name": "p", "login-by": "http-chap,sms"}),
            ("/ppp/profile", {"name": "p", "remote-address": "no-such-pool"}),
            ("/interface/pppoe-server/server", {"interface": "ether3", "authentication": "pap,eap"}),
            ("/radius", {"address": "10.8.0.1", "service": "hotspot,vpn"}),
            ("/ip/dhcp-server/network", {"address": "10.9.0.0/33"}),
        ]
        for menu, props in refusals:
            with pytest.raises(RouterCommandRefused):
                client.add(menu, **props)
    assert [row["slave"] for row in githurai.table("/interface").rows(type="ether")] == [
        "false", "true", "false", "false", "false"]


@pytest.mark.django_db
def test_a_change_landing_after_the_services_steps_is_applied_by_a_follow_up_run(githurai,
                                                                                django_capture_on_commit_callbacks):
    """One run per router: a change made while it runs joins it, maybe after its services steps
    read the services. That run leaves the change unapplied and queues the run that applies it; and
    the router's live data is read again at each run's end (not up to 5 minutes later)."""
    router = make_router(githurai, name="Githurai")
    hotspot, pppoe = add_services(router)
    first = provisioning.start_job(router)
    told = {}

    def mid_run(event):  # after the services steps, as a technician's change would land
        if event["step"] == "hotspot_profile":
            told["network"] = router_services.update_service(hotspot, network="10.5.60.0/24")[1].pk
            told["stop"] = router_services.stop_service(pppoe)[1].pk
            told["remove"] = router_services.remove_service(router_services.add_service(
                router, kind="pppoe", interfaces=["ether5"], network="10.7.0.0/24"))[1].pk

    with django_capture_on_commit_callbacks(execute=True):  # the follow-up's worker runs here (eager)
        done = provisioning.run_job(first.pk, report=mid_run)

    assert done.status == "done", done.steps
    assert told == {"network": first.pk, "stop": first.pk, "remove": first.pk}  # they joined the running one
    follow_up = ProvisioningJob.objects.filter(router=router).exclude(pk=first.pk).get()
    assert follow_up.status == "done", follow_up.steps
    assert Entry.objects.filter(action="provisioning_started", note__startswith=f"job {follow_up.pk}: ").get(
        ).note.endswith(f"hotspot1, pppoe1, pppoe2 changed during job {first.pk}")
    # The follow-up applied all three: the new network, the stopped server, the late service gone.
    assert shown(githurai, "/ip/address", "address", "comment")[1:] == [("10.5.60.1/24", HOTSPOT + "gateway")]
    assert shown(githurai, "/interface/pppoe-server/server", "service-name", "disabled") == [("pppoe1", "true")]
    assert [row["name"] for row in githurai.table("/ip/pool").rows()] == ["hotspot1-pool", "pppoe1-pool"]
    assert sorted((service.name, service.provisioned_at > service.updated_at)
                  for service in RouterService.objects.filter(router=router)) == [("hotspot1", True), ("pppoe1", True)]
    # Nothing left to apply: no third run.
    assert ProvisioningJob.objects.filter(router=router).count() == 2
    # The page's "On the router" is the router's own word now: both servers seen, pppoe1's disabled.
    assert sorted(RouterService.objects.filter(router=router).values_list("name", "on_router", "disabled")) == [
        ("hotspot1", True, False), ("pppoe1", True, True)]

