"""/api/hotspot/profiles (issue 19): the MikroTik hotspot user profiles read from the routers, and a
package pushed as a tagged profile to some routers or all, through the real routeros-api client
against simulated routers; and /api/users/{id}/pppoe, a PPPoE customer's service and fixed address."""
import json

import pytest

from audit.models import Entry
from hotspot import pppoe, services
from hotspot.models import Package, PackageKind, ServiceType
from radius import services as radius
from routers.models import Router, RouterService, ServiceControlLog
from routers.routeros import RouterClient
from routers.routeros_simulator import RouterOSSimulator

from .staff_kit import bearer

API_PASSWORD = "profiles-api-secret"
PROFILES = "/ip/hotspot/user/profile"


@pytest.fixture
def api(client):
    def call(user, method: str, url: str, body=None):
        return getattr(client, method)(url, json.dumps(body) if body is not None else None,
                                       content_type="application/json", **bearer(user))
    return call


@pytest.fixture
def two_routers():
    with RouterOSSimulator(identity="Kilimani", password=API_PASSWORD) as kilimani, \
            RouterOSSimulator(identity="Ruaka", password=API_PASSWORD) as ruaka:
        yield kilimani, ruaka


def make_router(sim, name) -> Router:
    # Straight to the table: create_router would give each the RADIUS client 127.0.0.1, which one router holds.
    return Router.objects.create(name=name, host="127.0.0.1", api_port=sim.port, api_username="admin",
                                 api_password=API_PASSWORD)


def daily(**changes) -> Package:
    fields = {"name": "Daily 5M", "price": 50, "validity_minutes": 1440, "rate_limit": "2M/5M", "devices": 2,
              **changes}
    return services.save_package(Package(**fields))


def on_router(sim) -> dict:
    """The router's profiles as the real client reads them, by name."""
    with RouterClient("127.0.0.1", sim.port, "admin", API_PASSWORD) as client:
        return {row["name"]: row for row in client.print(PROFILES)}


def outcomes(response) -> list[tuple]:
    return [(r["router_name"], r["outcome"], r["reason"]) for r in response.json()["results"]]


@pytest.mark.django_db
def test_a_technician_pushes_a_package_to_every_router_reads_it_back_and_pushes_changes(api, technician,
                                                                                        two_routers):
    kilimani, ruaka = make_router(two_routers[0], "Kilimani"), make_router(two_routers[1], "Ruaka")
    package = daily()

    pushed = api(technician, "post", "/api/hotspot/profiles", {"package": package.pk})
    assert pushed.status_code == 200, pushed.content
    name = f"Daily 5M [pkg-{package.pk}]"  # RouterOS has no comment here: the name carries our mark
    assert pushed.json()["profile"] == name
    assert outcomes(pushed) == [("Kilimani", "created", ""), ("Ruaka", "created", "")]
    for sim in two_routers:
        row = on_router(sim)[name]
        assert (row["rate-limit"], row["shared-users"], row["session-timeout"]) == ("2M/5M", "2", "1d")

    read = api(technician, "get", f"/api/hotspot/profiles?router={ruaka.pk}")
    assert read.status_code == 200, read.content
    profiles = {p["name"]: p for p in read.json()["profiles"]}
    assert read.json()["router"] == ruaka.pk and set(profiles) == {"default", name}
    assert profiles["default"]["package"] is None and profiles["default"]["default"] is True
    assert profiles[name]["id"].startswith("*")  # the router's own id for the item
    assert {k: profiles[name][k] for k in ("rate_limit", "shared_users", "session_timeout", "package")} == \
        {"rate_limit": "2M/5M", "shared_users": 2, "session_timeout": 86400, "package": package.pk}

    again = api(technician, "post", "/api/hotspot/profiles", {"package": package.pk, "routers": [kilimani.pk]})
    assert outcomes(again) == [("Kilimani", "unchanged", "")]

    # Renamed and repriced: the same profile follows (found by its tag), the old name is gone.
    package.name, package.rate_limit, package.validity_minutes, package.devices = "Daily 10M", "5M/10M", 90, 1
    services.save_package(package)
    changed = api(technician, "post", "/api/hotspot/profiles", {"package": package.pk, "routers": "all"})
    assert outcomes(changed) == [("Kilimani", "updated", ""), ("Ruaka", "updated", "")]
    for sim in two_routers:
        names = on_router(sim)
        renamed = names[f"Daily 10M [pkg-{package.pk}]"]
        assert set(names) == {"default", renamed["name"]}
        assert (renamed["rate-limit"], renamed["session-timeout"], renamed["shared-users"]) == ("5M/10M", "1h30m", "1")

    # Audited: one entry on the package per push, one on each router it changed; the routers' logs too.
    notes = list(Entry.objects.filter(action="pushed_as_profile", object_id=str(package.pk))
                 .order_by("pk").values_list("note", flat=True))
    assert notes == ["Kilimani: created; Ruaka: created", "Kilimani: unchanged", "Kilimani: updated; Ruaka: updated"]
    assert {e.actor_name for e in Entry.objects.filter(action="pushed_as_profile")} == {"tabitha"}
    assert Entry.objects.filter(action="profile_created", object_id=str(kilimani.pk)).count() == 1
    assert Entry.objects.filter(action="profile_updated", object_id=str(ruaka.pk)).count() == 1
    assert ServiceControlLog.objects.filter(action="hotspot_profile", outcome="ok").count() == 4


@pytest.mark.django_db
def test_an_operators_own_profiles_are_never_touched_and_a_dead_router_fails_alone(api, admin, two_routers):
    kilimani_sim, ruaka_sim = two_routers
    kilimani, ruaka = make_router(kilimani_sim, "Kilimani"), make_router(ruaka_sim, "Ruaka")
    with RouterOSSimulator(identity="Gone", password=API_PASSWORD) as gone_sim:
        gone = make_router(gone_sim, "Gone")
        gone_sim.set_dead("refused")
        with RouterClient("127.0.0.1", kilimani_sim.port, "admin", API_PASSWORD) as client:
            client.add(PROFILES, name="Daily 5M", **{"rate-limit": "1M/1M"})
        package = daily()
        pushed = api(admin, "post", "/api/hotspot/profiles",
                     {"package": package.pk, "routers": [kilimani.pk, gone.pk, ruaka.pk]})
    assert pushed.status_code == 200, pushed.content
    assert outcomes(pushed) == [("Kilimani", "created", ""), ("Gone", "failed", "unreachable"),
                                ("Ruaka", "created", "")]
    ours = f"Daily 5M [pkg-{package.pk}]"
    kilimani_has = on_router(kilimani_sim)
    assert kilimani_has["Daily 5M"]["rate-limit"] == "1M/1M"  # the operator's own, untouched beside ours
    assert kilimani_has[ours]["rate-limit"] == "2M/5M" and on_router(ruaka_sim)[ours]["rate-limit"] == "2M/5M"
    read = api(admin, "get", f"/api/hotspot/profiles?router={kilimani.pk}").json()["profiles"]
    assert {p["name"]: p["package"] for p in read} == {"default": None, "Daily 5M": None, ours: package.pk}
    [failed] = ServiceControlLog.objects.filter(action="hotspot_profile", outcome="failed")
    assert failed.router_name == "Gone" and "unreachable" in failed.detail
    dead = api(admin, "get", f"/api/hotspot/profiles?router={gone.pk}")
    assert dead.status_code == 502 and dead.json()["reason"] == "unreachable"


@pytest.mark.django_db
def test_bad_requests_are_answered_422_or_404_never_500(api, technician):
    router = Router.objects.create(name="Kahawa", host="10.0.0.7")
    plan = daily()
    home = services.save_package(Package(name="Home 5M", price=1500, validity_minutes=43200,
                                         service_type=ServiceType.PPPOE))
    boost = services.save_package(Package(name="1 GB more", price=20, validity_minutes=60, data_limit_mb=1024,
                                          kind=PackageKind.BOOST))
    bodies = {
        "no package": ({"routers": [router.pk]}, None),
        "unknown package": ({"package": 999999}, "No package with id 999999"),
        "package not a number": ({"package": "daily"}, None),
        "a PPPoE package": ({"package": home.pk}, "only hotspot packages"),
        "a boost": ({"package": boost.pk}, "is a boost"),
        "unknown router": ({"package": plan.pk, "routers": [router.pk, 424242]}, "No router with id 424242"),
        "no routers at all": ({"package": plan.pk, "routers": []}, None),
        "routers neither a list nor all": ({"package": plan.pk, "routers": "every"}, None),
        "router ids not numbers": ({"package": plan.pk, "routers": ["Kahawa"]}, None),
    }
    for what, (body, detail) in bodies.items():
        response = api(technician, "post", "/api/hotspot/profiles", body)
        assert response.status_code == 422, (what, response.content)
        if detail:
            assert detail in response.json()["detail"], what
    assert api(technician, "post", "/api/hotspot/profiles", "not json").status_code == 422
    assert api(technician, "get", "/api/hotspot/profiles").status_code == 422
    assert api(technician, "get", "/api/hotspot/profiles?router=x").status_code == 422
    assert api(technician, "get", "/api/hotspot/profiles?router=424242").status_code == 404
    assert not Entry.objects.filter(action="pushed_as_profile").exists()


@pytest.mark.django_db
def test_who_may_read_and_push_profiles(api, support_agent, finance_clerk):
    router = Router.objects.create(name="Kahawa", host="10.0.0.7")
    for user in (support_agent, finance_clerk):
        assert api(user, "get", f"/api/hotspot/profiles?router={router.pk}").status_code == 403
        assert api(user, "post", "/api/hotspot/profiles", {"package": 1}).status_code == 403


@pytest.mark.django_db
def test_a_pppoe_customers_service_and_fixed_address_through_the_api(api, support_agent):
    router = Router.objects.create(name="Kahawa", host="10.0.0.7")
    service = RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1", managed=True,
                                           interfaces=["ether4"], network="10.5.60.0/24")
    customer = services.create_customer("0722 300 400", name="Otieno", service_type=ServiceType.PPPOE)
    radius.grant_access(customer.username, customer.password, "pkg-home")
    url = f"/api/users/{customer.pk}/pppoe"

    pooled = api(support_agent, "put", url, {"service": service.pk})
    assert pooled.status_code == 200, pooled.content
    assert pooled.json()["radius_reply"] == {"Service-Type": "Framed-User", "Framed-Protocol": "PPP",
                                             "Framed-Pool": "pppoe1-pool"}
    fixed = api(support_agent, "put", url, {"service": service.pk, "static_ip": "10.5.60.207"})
    assert fixed.json()["static_ip"] == "10.5.60.207"
    assert fixed.json()["radius_reply"]["Framed-IP-Address"] == "10.5.60.207"
    # Written to RADIUS at once: the next connection gets it.
    replies = {r.attribute: r.value for r in radius.access_of(customer.username)["reply"]}
    assert replies == {"Service-Type": "Framed-User", "Framed-Protocol": "PPP", "Framed-IP-Address": "10.5.60.207"}
    assert api(support_agent, "get", url).json()["static_ip"] == "10.5.60.207"

    outside = api(support_agent, "put", url, {"service": service.pk, "static_ip": "192.168.1.5"})
    assert outside.status_code == 422 and outside.json()["field"] == "static_ip"
    assert "not in pppoe1's network" in outside.json()["detail"]
    assert api(support_agent, "put", url, {"service": 999999}).status_code == 422
    assert api(support_agent, "put", url, {"service": "pppoe1"}).status_code == 422
    assert api(support_agent, "put", "/api/users/999999/pppoe", {"service": service.pk}).status_code == 404

    [entry] = Entry.objects.filter(action="changed", object_id=str(customer.pk), note="PPPoE connection",
                                   changes__has_key="static_ip")
    assert entry.changes["static_ip"] == [None, "10.5.60.207"] and entry.actor_name == "samuel"


@pytest.mark.django_db
def test_support_sets_a_fixed_address_on_the_customers_page_and_a_bad_one_is_a_form_error(signed_in):
    router = Router.objects.create(name="Kahawa", host="10.0.0.7")
    service = RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1", managed=True,
                                           interfaces=["ether4"], network="10.5.60.0/24")
    customer = services.create_customer("0722 300 401", name="Wairimu", service_type=ServiceType.PPPOE)
    browser = signed_in("support")
    url = f"/customers/{customer.pk}/pppoe/"
    page = browser.get(url)
    assert page.status_code == 200 and "Kahawa · pppoe1 (10.5.60.0/24)" in page.content.decode()

    refused = browser.post(url, {"service": service.pk, "static_ip": "10.5.61.3"})
    assert refused.status_code == 200
    assert "10.5.61.3 is not in pppoe1&#x27;s network 10.5.60.0/24." in refused.content.decode()
    refused = browser.post(url, {"service": "", "static_ip": "10.5.60.3"})
    assert "needs the PPPoE service" in refused.content.decode()
    customer.refresh_from_db()
    assert customer.static_ip is None

    # In the pool, the router could hand it to another customer: the fixed ones are the top quarter.
    refused = browser.post(url, {"service": service.pk, "static_ip": "10.5.60.3"})
    assert refused.status_code == 200 and "must be in 10.5.60.192-10.5.60.254" in refused.content.decode()

    saved = browser.post(url, {"service": service.pk, "static_ip": "10.5.60.203"})
    assert saved.status_code == 302 and saved["Location"] == f"/customers/{customer.pk}/"
    detail = browser.get(saved["Location"]).content.decode()
    assert "Kahawa · pppoe1" in detail and "<code>10.5.60.203</code>" in detail


@pytest.mark.django_db
def test_a_removed_pppoe_service_takes_its_pool_out_of_its_customers_replies():
    router = Router.objects.create(name="Kahawa", host="10.0.0.7")
    service = RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1", managed=True,
                                           interfaces=["ether4"], network="10.5.60.0/24")
    pooled = services.create_customer("0722 300 403", service_type=ServiceType.PPPOE)
    fixed = services.create_customer("0722 300 404", service_type=ServiceType.PPPOE)
    for customer, address in ((pooled, ""), (fixed, "10.5.60.250")):
        radius.grant_access(customer.username, customer.password, "pkg-home")
        pppoe.set_connection(customer, service, address)

    def replies(customer):
        return {r.attribute: r.value for r in radius.access_of(customer.username)["reply"]}

    assert replies(pooled)["Framed-Pool"] == "pppoe1-pool"
    service.delete()
    assert replies(pooled) == {"Service-Type": "Framed-User", "Framed-Protocol": "PPP"}
    assert replies(fixed)["Framed-IP-Address"] == "10.5.60.250"
