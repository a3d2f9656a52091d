"""A technician gives a factory-default router its services from the router's page: the Interfaces
panel (asked of the router through the real routeros-api client) shows the WAN and the free ports
and suggests a free network; Add hotspot / Add PPPoE record the services, refusals come back as
the form's errors; start, stop and remove queue the provisioning run; /routers/services/ lists
every service with what is wanted and what the router runs."""
import pytest
from django.utils import timezone

from accounts.roles import TECHNICIAN
from routers import services
from routers.models import ProvisioningJob, Router, RouterService
from routers.routeros_simulator import RouterOSSimulator

pytestmark = pytest.mark.django_db
PASSWORD = "kilimani-api-secret"
# Session (read, and its save: three), user, permissions (three), the count, the page's services with
# their routers, the routers of the filter.
LIST_QUERIES = 11


@pytest.fixture
def factory_new():
    with RouterOSSimulator(identity="Kilimani", password=PASSWORD, factory_default=True) as running:
        yield running


def make_router(sim, name="Kilimani") -> Router:
    return services.create_router(name=name, host="127.0.0.1", api_port=sim.port, api_password=PASSWORD)


def add(client, router, kind, ports, network, **extra):
    return client.post(f"/routers/{router.pk}/services/add/", {"kind": kind, "interfaces": ports,
                                                                 "network": network, **extra})


def test_the_interfaces_panel_shows_the_wan_the_free_ports_and_a_free_network(factory_new, signed_in):
    router = make_router(factory_new)
    client = signed_in(TECHNICIAN)
    page = client.get(f"/routers/{router.pk}/interfaces/")  # without JavaScript: a page of its own
    assert page.status_code == 200 and "<html" in page.content.decode()
    ports = {p["name"]: p for p in page.context["ports"]}
    assert ports["ether1"]["used_by"] == "wan" and not ports["ether1"]["free"]
    assert all(ports[f"ether{n}"]["free"] for n in range(2, 6))
    html = client.get(f"/routers/{router.pk}/interfaces/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and 'value="10.5.50.0/24"' in html
    assert 'value="ether1" disabled' in html and "Add hotspot" in html and "Add PPPoE" in html


def test_both_services_are_added_from_the_page_and_listed_with_their_state(factory_new, signed_in):
    router = make_router(factory_new)
    client = signed_in(TECHNICIAN)
    done = add(client, router, "hotspot", ["ether2", "ether3"], "10.5.50.0/24")
    assert done.status_code == 302 and done["Location"] == f"/routers/{router.pk}/"
    assert add(client, router, "pppoe", ["ether4"], "10.10.0.0/24").status_code == 302
    hotspot, pppoe = RouterService.objects.filter(router=router, managed=True).order_by("kind")
    assert (hotspot.name, hotspot.interfaces, pppoe.name, pppoe.interfaces) == (
        "hotspot1", ["ether2", "ether3"], "pppoe1", ["ether4"])
    page = client.get(f"/routers/{router.pk}/")
    html = page.content.decode()
    assert 'data-service="hotspot1"' in html and 'data-service="pppoe1"' in html and "not applied yet" in html
    # The next suggestion is past both networks.
    panel = client.get(f"/routers/{router.pk}/interfaces/", HTTP_HX_REQUEST="true")
    assert 'value="10.5.51.0/24"' in panel.content.decode()
    assert "(hotspot1)" in panel.content.decode() and "(pppoe1)" in panel.content.decode()


@pytest.mark.parametrize(("ports", "network", "says"), [
    (["ether1"], "10.5.60.0/24", "WAN port"),
    (["ether2"], "10.5.60.0/24", "already used by hotspot1"),
    (["ether5"], "10.5.50.128/25", "overlaps hotspot1"),
    (["ether9"], "10.5.60.0/24", "no interface ether9"),
    (["ether5"], "8.8.8.0/24", "not a private network"),
    ([], "10.5.60.0/24", "Tick at least one free port"),
])
def test_a_refused_service_comes_back_as_the_forms_error(factory_new, signed_in, ports, network, says):
    router = make_router(factory_new)
    client = signed_in(TECHNICIAN)
    add(client, router, "hotspot", ["ether2", "ether3"], "10.5.50.0/24")
    refused = add(client, router, "pppoe", ports, network)
    assert refused.status_code == 400 and says in refused.content.decode()
    assert RouterService.objects.filter(router=router, managed=True).count() == 1


def test_stop_start_and_remove_queue_the_provisioning_run(factory_new, signed_in, settings, monkeypatch):
    router = make_router(factory_new)
    client = signed_in(TECHNICIAN)
    add(client, router, "pppoe", ["ether4"], "10.10.0.0/24")
    service = RouterService.objects.get(router=router, managed=True)
    for action, state in (("stop", "stopped"), ("start", "running"), ("remove", "removing")):
        ProvisioningJob.objects.filter(router=router).update(status=ProvisioningJob.Status.DONE)
        done = client.post(f"/routers/{router.pk}/services/{service.pk}/{action}/")
        job = ProvisioningJob.objects.filter(router=router).order_by("-pk").first()
        assert done.status_code == 302 and done["Location"] == f"/routers/{router.pk}/provisioning/{job.pk}/"
        service.refresh_from_db()
        assert service.state == state
    # Removing twice, or acting on a service being removed, says so instead of failing.
    again = client.post(f"/routers/{router.pk}/services/{service.pk}/stop/", follow=True)
    assert "is being removed" in again.content.decode()
    assert client.post(f"/routers/{router.pk}/services/999999/start/").status_code == 404


def test_the_services_list_shows_wanted_and_running_at_a_fixed_query_count(factory_new, signed_in,
                                                                         django_assert_num_queries):
    router = make_router(factory_new)
    now = timezone.now()
    RouterService.objects.bulk_create(
        [RouterService(router=router, kind="hotspot", name=f"hotspot{n}", managed=True, interfaces=[f"ether{n}"],
                       network=f"10.5.{50 + n}.0/24", provisioned_at=now, on_router=False, seen_at=None)
         for n in range(2, 5)]
        + [RouterService(router=router, kind="pppoe", name="home", interface="ether5", seen_at=now, disabled=True)])
    client = signed_in(TECHNICIAN)
    with django_assert_num_queries(LIST_QUERIES):
        page = client.get("/routers/services/")
    states = {s.name: s.actual for s in page.context["page"]}
    assert states == {"hotspot2": "running", "hotspot3": "running", "hotspot4": "running", "home": "disabled"}
    assert "by hand" in page.content.decode()


def test_a_service_is_edited_from_the_page_and_a_refusal_is_the_forms_error(factory_new, signed_in):
    router = make_router(factory_new)
    client = signed_in(TECHNICIAN)
    add(client, router, "hotspot", ["ether2", "ether3"], "10.5.50.0/24")
    add(client, router, "pppoe", ["ether4"], "10.10.0.0/24")
    hotspot = RouterService.objects.get(router=router, name="hotspot1")
    url = f"/routers/{router.pk}/services/{hotspot.pk}/edit/"
    assert f'href="{url}"' in client.get(f"/routers/{router.pk}/").content.decode()

    form = client.get(url)
    html = form.content.decode()
    assert form.status_code == 200 and 'value="10.5.50.0/24"' in html
    # Its own ports ticked, a free one offered, the WAN and the other service's port not.
    assert 'value="ether2" checked' in html and 'value="ether5">' in html
    assert 'value="ether1" disabled' in html and 'value="ether4" disabled' in html

    for posted, says in (({"interfaces": ["ether4"], "network": "10.5.50.0/24"}, "ether4 is already used by"),
                         ({"interfaces": ["ether2"], "network": "10.10.0.0/25"}, "overlaps pppoe1"),
                         ({"interfaces": ["ether2"], "network": "10.5.50.7/24"}, "host bits set"),
                         ({"interfaces": ["ether1"], "network": "10.5.50.0/24"}, "ether1 is the router&#x27;s WAN"),
                         ({"interfaces": [], "network": "10.5.50.0/24"}, "Tick at least one port.")):
        refused = client.post(url, posted)
        assert refused.status_code == 400 and says in refused.content.decode(), posted
    hotspot.refresh_from_db()
    assert (hotspot.interfaces, hotspot.network) == (["ether2", "ether3"], "10.5.50.0/24")

    ProvisioningJob.objects.filter(router=router).update(status=ProvisioningJob.Status.DONE)
    saved = client.post(url, {"interfaces": ["ether2", "ether5"], "network": "10.5.60.0/24"})
    job = ProvisioningJob.objects.filter(router=router).order_by("-pk").first()
    assert saved.status_code == 302 and saved["Location"] == f"/routers/{router.pk}/provisioning/{job.pk}/"
    hotspot.refresh_from_db()
    assert (hotspot.interfaces, hotspot.network, hotspot.provisioned_at) == (["ether2", "ether5"], "10.5.60.0/24", None)
    unchanged = client.post(url, {"interfaces": ["ether2", "ether5"], "network": "10.5.60.0/24"})
    assert unchanged.status_code == 302 and unchanged["Location"] == f"/routers/{router.pk}/"
    assert client.get(f"/routers/{router.pk}/services/999999/edit/").status_code == 404
