"""In a real browser: a technician takes a factory-default router (ether1 its WAN, nothing else set
up) to serving customers from its page: adds a hotspot on ether2+ether3 and PPPoE on ether4 with
the port picker, provisions while the progress bar fills, and sees both running. Then support
watches Online now list a hotspot user and a PPPoE user on it and disconnects one."""
import threading

import pytest
from django.db import connections

from accounts.roles import SUPPORT, TECHNICIAN
from routers import live_data, provisioning, services
from routers.models import ProvisioningJob, RouterService
from routers.routeros_simulator import RouterOSSimulator

from .browser import SCREENSHOTS, elsewhere
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("our_servers")]
API_PASSWORD = "githurai-api-pass"


@pytest.fixture
def served_env():
    # Jobs are queued, not run inside the request: the test plays the Celery worker, so the page
    # has a run in progress to watch.
    return {"CELERY_TASK_ALWAYS_EAGER": "false", "RADIUS_SERVER_ADDRESS": "10.8.0.1"}


@pytest.fixture
def githurai():
    # 15 ms a command: the run takes a few seconds, long enough to be seen moving.
    with RouterOSSimulator(identity="Githurai", password=API_PASSWORD, factory_default=True,
                           latency_ms=15) as running:
        yield running


def sign_in(chromium, served, username, width=1280):
    page = chromium.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")
    return page


def add_service(page, ports, button):
    page.wait_for_selector("#interfaces-panel form")
    for port in ports:
        page.check(f"#interfaces-panel input[name=interfaces][value={port}]")
    page.click(f"#interfaces-panel button:has-text('{button}')")
    page.wait_for_selector(".alert, [role=status]", timeout=10_000)


def run_in_background(job_id: int) -> threading.Thread:
    def run():
        try:
            provisioning.run_job(job_id)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    return worker


def test_a_factory_default_router_gets_hotspot_and_pppoe_from_its_page(served, chromium, githurai):
    router = services.create_router(name="Githurai", host="127.0.0.1", api_port=githurai.port,
                                    api_password=API_PASSWORD, radius_secret="githurai-radius-secret")
    make_staff("otieno", TECHNICIAN)
    page = sign_in(chromium, served, "otieno")
    page.goto(f"{served}/routers/{router.pk}/")

    # The port picker: ether1 is the WAN and cannot be ticked; the network is a free range, filled in.
    page.wait_for_selector("#interfaces-panel form")
    assert page.locator("#interfaces-panel input[value=ether1]").is_disabled()
    assert page.locator("#interfaces-panel input[name=network]").input_value() == "10.5.50.0/24"
    page.screenshot(path=SCREENSHOTS / "router-services-factory-default.png", full_page=True)
    add_service(page, ["ether2", "ether3"], "Add hotspot")
    assert "hotspot1 added on ether2, ether3" in page.content()
    page.wait_for_selector("#interfaces-panel form")
    assert page.locator("#interfaces-panel input[value=ether2]").is_disabled()  # hotspot1's now
    assert page.locator("#interfaces-panel input[name=network]").input_value() == "10.5.51.0/24"
    add_service(page, ["ether4"], "Add PPPoE")
    assert page.locator('tr[data-service="pppoe1"]').is_visible()

    page.click("button:has-text('Provision')")
    job = ProvisioningJob.objects.get(router=router)
    page.wait_for_url(f"{served}/routers/{router.pk}/provisioning/{job.pk}/")
    page.wait_for_timeout(300)  # the page's websocket joins the run's group
    worker = run_in_background(job.pk)
    seen = set()
    for _ in range(400):
        percent = int(page.locator("#progress [role=progressbar]").get_attribute("aria-valuenow"))
        seen.add(percent)
        if percent == 100:
            break
        page.wait_for_timeout(50)
    worker.join(60)
    page.wait_for_selector('#progress[data-job-status="done"]', timeout=10_000)
    assert 100 in seen and any(0 < percent < 100 for percent in seen), seen
    page.screenshot(path=SCREENSHOTS / "router-services-provisioned.png", full_page=True)

    page.goto(f"{served}/routers/{router.pk}/")
    for name in ("hotspot1", "pppoe1"):
        row = page.locator(f'tr[data-service="{name}"]')
        assert row.locator("[data-wanted]").inner_text() == "Running"
        assert row.locator("[data-actual]").inner_text().startswith("running")
    # The live-data job's look at the router agrees.
    elsewhere(live_data.fetch_all)
    assert {(s.name, s.running) for s in RouterService.objects.filter(router=router)} == {
        ("hotspot1", True), ("pppoe1", True)}
    page.goto(f"{served}/routers/services/")
    assert page.locator('tr[data-service="hotspot1"]', has_text="running").is_visible()
    assert page.locator('tr[data-service="pppoe1"]', has_text="running").is_visible()
    page.screenshot(path=SCREENSHOTS / "router-services-list.png", full_page=True)
    page.close()

    # Customers come online: one on the hotspot, one over PPPoE.
    githurai.login_hotspot("wanjiku-phone", server="hotspot1", address="10.5.50.10", rate_out=300_000)
    githurai.login_ppp("kamau-home", address="10.5.51.2")
    make_staff("amina", SUPPORT)
    desk = sign_in(chromium, served, "amina")
    desk.goto(f"{served}/sessions/live/")
    assert desk.locator('tr[data-session="hotspot:wanjiku-phone"]').is_visible()
    assert desk.locator('tr[data-session="pppoe:kamau-home"]').is_visible()
    assert desk.locator('[data-total="online"]').inner_text() == "2"
    # The page refreshes itself: the hotspot user's rate appears from the second read.
    desk.wait_for_function(
        "() => /bps/.test(document.querySelector('tr[data-session=\"hotspot:wanjiku-phone\"]').innerText)",
        timeout=20_000)
    desk.screenshot(path=SCREENSHOTS / "live-sessions-1280.png", full_page=True)
    desk.set_viewport_size({"width": 390, "height": 844})
    desk.screenshot(path=SCREENSHOTS / "live-sessions-390.png", full_page=True)
    desk.set_viewport_size({"width": 1280, "height": 900})

    desk.locator('tr[data-session="pppoe:kamau-home"] a:has-text("Disconnect")').click()
    desk.click("button:has-text('Disconnect')")
    desk.wait_for_url(f"{served}/sessions/live/")
    assert "kamau-home disconnected from Githurai" in desk.content()
    assert not desk.locator('tr[data-session="pppoe:kamau-home"]').count()
    assert desk.locator('tr[data-session="hotspot:wanjiku-phone"]').is_visible()
    assert not githurai.table("/ppp/active").rows(name="kamau-home")
    desk.close()

    narrow = sign_in(chromium, served, "otieno", width=390)
    narrow.goto(f"{served}/routers/{router.pk}/")
    narrow.wait_for_selector("#interfaces-panel table")
    narrow.screenshot(path=SCREENSHOTS / "router-services-390.png", full_page=True)
    for panel in ("Services", "Interfaces"):  # the full page is too tall to read at 390 px
        narrow.locator(f'section[aria-label="{panel}"]').screenshot(
            path=SCREENSHOTS / f"router-{panel.lower()}-panel-390.png")
    narrow.close()
