"""/sessions/live/: who is online now, asked of every router in parallel over the real routeros-api
client (simulated routers), merged with radacct and billing; a silent router does not hold the
page; Disconnect goes the RFC 5176 way when FreeRADIUS has the session, over the API otherwise."""
import time

import pytest
from django.utils import timezone

from accounts.roles import ADMIN, SUPPORT, TECHNICIAN
from audit.models import Entry
from hotspot import online_now, subscriptions
from hotspot import services as hotspot
from hotspot.models import Package, ServiceType
from lib.shared_cache import cache
from radius import services as radius
from radius.models import CoaAttempt, RadAcct
from radius.nas_simulator import NasSimulator
from routers import active_sessions, services
from routers.models import ServiceControlLog
from routers.routeros_simulator import RouterOSSimulator

pytestmark = pytest.mark.django_db
PASSWORD = "live-api-secret"
NAS_SECRET = "live-coa-secret"
# Session (read, and its save: three), user, permissions (three), the routers asked, the customers, their
# running plans, radacct, the routers and packages of the filter: the same whatever the number of
# routers or sessions.
PAGE_QUERIES = 14


@pytest.fixture
def westlands():
    with RouterOSSimulator(identity="Westlands", password=PASSWORD) as sim:
        yield sim


@pytest.fixture
def kilimani():
    with RouterOSSimulator(identity="Kilimani", password=PASSWORD) as sim:
        yield sim


def make_router(sim, name, host="127.0.0.1"):
    return services.create_router(name=name, host=host, api_port=sim.port, api_username="admin",
                                  api_password=PASSWORD)


def make_plan(name, kind=ServiceType.HOTSPOT, rate="2M/5M") -> Package:
    return hotspot.save_package(Package(name=name, price=50, validity_minutes=1440, rate_limit=rate,
                                        service_type=kind))


def make_customer(phone, package, name=""):
    customer = hotspot.create_customer(phone, name=name, service_type=package.service_type)
    subscriptions.activate(customer, package, "staff")
    return customer


@pytest.fixture
def fleet(westlands, kilimani):
    """Westlands: two hotspot users and a PPPoE home; Kilimani: one hotspot user."""
    daily, home = make_plan("Daily"), make_plan("Home 10M", ServiceType.PPPOE, "5M/10M")
    wambui, juma = make_customer("0712 345 678", daily, "Wambui"), make_customer("0733 000 111", daily, "Juma")
    achieng = make_customer("0722 222 333", home, "Achieng")
    westlands.login_hotspot(wambui.username, address="10.5.50.10", rate_out=250_000)
    westlands.login_hotspot(juma.username, address="10.5.50.11")
    westlands.login_ppp(achieng.username, address="10.10.0.2")
    kilimani.login_hotspot("walk-in-42", address="10.5.50.20")
    return {"westlands": make_router(westlands, "Westlands"), "kilimani": make_router(kilimani, "Kilimani"),
            "daily": daily, "home": home, "wambui": wambui, "juma": juma, "achieng": achieng}


def test_everyone_online_on_every_router_is_listed_with_their_package_and_totals(fleet, signed_in,
                                                                                  django_assert_num_queries):
    client = signed_in(SUPPORT)
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get("/sessions/live/")
    assert page.status_code == 200
    rows = {row["user"]: row for row in page.context["page"]}
    assert set(rows) == {fleet["wambui"].username, fleet["juma"].username, fleet["achieng"].username, "walk-in-42"}
    assert rows[fleet["achieng"].username]["kind"] == "pppoe"
    assert rows[fleet["achieng"].username]["package"] == fleet["home"]
    assert rows[fleet["wambui"].username]["package"] == fleet["daily"]
    assert rows[fleet["wambui"].username]["router"] == "Westlands"
    assert rows["walk-in-42"]["customer"] is None and rows["walk-in-42"]["router"] == "Kilimani"
    totals = page.context["found"].totals
    counted = (totals["online"], totals["hotspot"], totals["pppoe"], totals["answered"], totals["routers"])
    assert counted == (4, 3, 1, 2, 2)
    html = page.content.decode()
    assert "Wambui" in html and "Home 10M" in html and "Disconnect" in html


def test_the_query_count_does_not_grow_with_sessions(fleet, westlands, signed_in, django_assert_num_queries):
    for n in range(30):
        westlands.login_hotspot(f"guest-{n}")
    client = signed_in(ADMIN)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get("/sessions/live/").status_code == 200


def test_filters_narrow_by_router_service_and_package(fleet, signed_in):
    client = signed_in(TECHNICIAN)
    users = lambda url: {row["user"] for row in client.get(url).context["page"]}  # noqa: E731
    assert users(f"/sessions/live/?router={fleet['kilimani'].pk}") == {"walk-in-42"}
    assert users("/sessions/live/?kind=pppoe") == {fleet["achieng"].username}
    assert users(f"/sessions/live/?package={fleet['daily'].pk}") == {fleet["wambui"].username, fleet["juma"].username}
    assert users("/customers/pppoe/sessions/") == {fleet["achieng"].username}
    assert users("/sessions/live/?q=10.5.50.2") == {"walk-in-42"}
    # A technician reads the page but does not disconnect (radius.disconnect_session is Support's).
    assert "Disconnect" not in client.get("/sessions/live/").content.decode()


def test_each_user_gets_a_rate_from_the_counters_change_between_two_reads(fleet, westlands):
    router = fleet["westlands"]
    first = active_sessions.read_all(type(router).objects.filter(pk=router.pk))[0]
    assert first.ok and all(s["down_bps"] is None for s in first.sessions)
    time.sleep(1.2)
    active_sessions.forget(router.pk)
    again = {s["user"]: s for s in active_sessions.read_all(type(router).objects.filter(pk=router.pk))[0].sessions}
    wambui = again[fleet["wambui"].username]
    assert 1_500_000 < wambui["down_bps"] < 2_500_000  # 250,000 bytes/s out to her
    # Achieng's PPPoE session counts on its dynamic interface <pppoe-…>: 400,000 bytes/s down by default.
    assert 2_500_000 < again[fleet["achieng"].username]["down_bps"] < 4_000_000


def test_a_silent_router_is_listed_as_not_answering_without_holding_the_page(fleet, signed_in):
    with RouterOSSimulator(identity="Ruaka", password=PASSWORD, dead="silent") as ruaka:
        make_router(ruaka, "Ruaka", host="127.0.0.2")
        started = time.monotonic()
        page = signed_in(SUPPORT).get("/sessions/live/")
        waited = time.monotonic() - started
    assert waited < active_sessions.BOUND_SECONDS + 1.5
    assert [r.name for r in page.context["found"].silent] == ["Ruaka"]
    assert page.context["found"].totals["online"] == 4
    assert "Not answering" in page.content.decode()


def test_a_router_that_failed_last_time_is_not_waited_for_again_but_asked_in_the_background(fleet, signed_in):
    client = signed_in(SUPPORT)
    with RouterOSSimulator(identity="Ruaka", password=PASSWORD, dead="silent") as ruaka:
        router = make_router(ruaka, "Ruaka", host="127.0.0.2")
        client.get("/sessions/live/")  # waited for: no reading of it yet
        cache.delete(f"routers:active-sessions:{router.pk}")  # its failure's FAILED_CACHE_SECONDS are over
        started = time.monotonic()
        page = client.get("/sessions/live/")
        waited = time.monotonic() - started
        assert waited < 1.0
        assert [r.name for r in page.context["found"].silent] == ["Ruaka"]
        assert page.context["found"].totals["online"] == 4
        # Meanwhile it is asked again in the background, once, and that reading is cached.
        deadline = time.monotonic() + active_sessions.TIMEOUT_SECONDS + 2
        while cache.get(f"routers:active-sessions:{router.pk}") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cache.get(f"routers:active-sessions:{router.pk}").reason == "unreachable"
    # Answering again: its last failure is forgotten by the read that answered.
    with RouterOSSimulator(identity="Ruaka", password=PASSWORD) as back:
        router.host, router.api_port = "127.0.0.1", back.port
        router.save(update_fields=["host", "api_port"])
        active_sessions.forget(router.pk)
        assert "Ruaka" not in [r.name for r in client.get("/sessions/live/").context["found"].silent]


def test_hundreds_of_silent_routers_are_counted_by_reason_and_the_first_named(fleet, signed_in):
    for n in range(online_now.SILENT_LISTED + 5):  # nothing listens on port 9: refused at once
        last = services.create_router(name=f"Dead-{n:02d}", host="127.0.0.1", api_port=9, api_username="admin",
                               api_password=PASSWORD)
    page = signed_in(SUPPORT).get("/sessions/live/")
    found = page.context["found"]
    assert len(found.silent) == online_now.SILENT_LISTED + 5 and found.silent_more == 5
    assert found.silent_reasons == [("unreachable", online_now.SILENT_LISTED + 5)]
    html = page.content.decode()
    assert html.count("data-silent-router=") == online_now.SILENT_LISTED
    assert ">Dead-00</a>" in html and f'data-silent-router="{last.pk}"' not in html and "and 5 more" in html
    assert found.totals["online"] == 4 and found.totals["answered"] == 2


def test_disconnect_without_accounting_removes_the_session_over_the_api(fleet, westlands, signed_in):
    client = signed_in(SUPPORT)
    achieng = fleet["achieng"].username
    row = next(s for s in client.get("/sessions/live/").context["page"] if s["user"] == achieng)
    asked = client.get("/sessions/live/disconnect/", {"router": row["router_id"], "kind": "pppoe", "id": row["id"],
                                                       "user": achieng})
    assert asked.status_code == 200 and "Disconnect" in asked.content.decode()
    assert westlands.table("/ppp/active").rows(name=achieng)  # asking changes nothing
    done = client.post("/sessions/live/disconnect/", {"router": row["router_id"], "kind": "pppoe", "id": row["id"],
                                                       "user": achieng, "next": "/sessions/live/"})
    assert done.status_code == 302 and done["Location"] == "/sessions/live/"
    assert not westlands.table("/ppp/active").rows(name=achieng)
    assert ServiceControlLog.objects.filter(action="kick", outcome="ok", router=fleet["westlands"]).exists()
    assert Entry.objects.filter(action="kicked").exists()
    assert achieng not in {s["user"] for s in client.get("/sessions/live/").context["page"]}


def test_disconnect_of_an_accounted_session_is_a_disconnect_request_to_the_nas(fleet, westlands):
    router, wambui = fleet["westlands"], fleet["wambui"].username
    with NasSimulator(secret=NAS_SECRET.encode()) as nas:
        radius.register_nas("127.0.0.1", NAS_SECRET, "Westlands", description=f"router {router.pk}", coa_port=nas.port)
        RadAcct.objects.create(acct_session_id="81a00001", acct_unique_id="u-81a00001", username=wambui,
                               nas_ip_address="127.0.0.1", framed_ip_address="10.5.50.10",
                               acct_start_time=timezone.now())
        row = next(s for s in online_now.online().rows if s["user"] == wambui)
        ended = online_now.disconnect(router, kind="hotspot", session_id=row["id"], user=wambui, by=None)
    assert (ended.how, ended.ended) == ("coa", True)
    assert [r.attributes["User-Name"] for r in nas.received] == [wambui]
    assert CoaAttempt.objects.get().outcome == CoaAttempt.Outcome.ACK


def test_bad_disconnects_are_refused_without_an_error(fleet, signed_in):
    client = signed_in(SUPPORT)
    assert client.post("/sessions/live/disconnect/", {"router": "x²"}).status_code == 404
    bad = client.post("/sessions/live/disconnect/", {"router": fleet["westlands"].pk, "kind": "vpn", "id": "*1"},
                      follow=True)
    assert bad.status_code == 200 and "give the session" in bad.content.decode()
    gone = client.post("/sessions/live/disconnect/", {"router": fleet["westlands"].pk, "kind": "hotspot",
                                                      "id": "*FFFF", "user": "nobody"}, follow=True)
    assert "had already left" in gone.content.decode()
