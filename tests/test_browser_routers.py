"""In a real browser: a technician adds a router, provisions it while the progress bar fills live
(over the run's websocket), then opens the router's page and watches its traffic graph move."""
import threading

import pytest
from django.db import connections

from routers import provisioning
from routers.models import ProvisioningJob, Router
from routers.routeros_simulator import RouterOSSimulator

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
API_PASSWORD = "tower-api-pass"


@pytest.fixture
def served_env():
    # Jobs are queued, not run inside the request: the test plays the Celery worker, so the page
    # has a run in progress to watch.
    return {"CELERY_TASK_ALWAYS_EAGER": "false", "RADIUS_SERVER_ADDRESS": "10.8.0.1"}


@pytest.fixture
def tower():
    # 40 ms a command: a run of seven steps takes a couple of seconds, long enough to be seen moving.
    with RouterOSSimulator(identity="Kitengela Tower", password=API_PASSWORD, latency_ms=40) as running:
        yield running


def work_in_background(job_id: int) -> threading.Thread:
    def run():
        try:
            provisioning.run_job(job_id)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    return worker


def test_add_provision_and_watch_a_router(served, chromium, tower, settings):
    from accounts.roles import TECHNICIAN

    settings.RADIUS_SERVER_ADDRESS = "10.8.0.1"
    make_staff("otieno", TECHNICIAN)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "otieno")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    page.click("nav.menu >> text=Routers")
    page.click("text=Add router")
    page.fill("input[name=name]", "Kitengela Tower")
    page.fill("input[name=site]", "Kitengela")
    page.fill("input[name=host]", "127.0.0.1")
    page.fill("input[name=api_port]", str(tower.port))
    page.fill("input[name=api_password]", API_PASSWORD)
    page.fill("input[name=radius_secret]", "tower-radius-secret")
    page.click("button:has-text('Add router')")
    router = Router.objects.get(name="Kitengela Tower")
    page.wait_for_url(f"{served}/routers/{router.pk}/")

    page.click("button:has-text('Provision')")
    job = ProvisioningJob.objects.get(router=router)
    page.wait_for_url(f"{served}/routers/{router.pk}/provisioning/{job.pk}/")
    assert page.locator("#progress [role=progressbar]").get_attribute("aria-valuenow") == "0"
    page.wait_for_timeout(300)  # the page's websocket joins the run's group

    worker = work_in_background(job.pk)
    seen = set()
    for _ in range(200):
        percent = int(page.locator("#progress [role=progressbar]").get_attribute("aria-valuenow"))
        seen.add(percent)
        if percent == 100:
            break
        page.wait_for_timeout(50)
    worker.join(30)
    page.wait_for_selector('#progress[data-job-status="done"]', timeout=10_000)
    assert 100 in seen and any(0 < percent < 100 for percent in seen), seen  # it moved, not jumped
    assert page.locator('[data-step-status="ok"]').count() == len(provisioning.STEPS)
    page.screenshot(path=SCREENSHOTS / "router-provisioned.png", full_page=True)

    page.click("text=Open Kitengela Tower")
    page.wait_for_url(f"{served}/routers/{router.pk}/")
    page.wait_for_function("() => Number(document.querySelector('[data-traffic-url]').dataset.points || 0) >= 2",
                           timeout=15_000)
    line = page.locator('[data-line="rx"]')
    before = line.get_attribute("points")
    page.wait_for_function(
        "before => document.querySelector('[data-line=\"rx\"]').getAttribute('points') !== before",
        arg=before, timeout=10_000)
    assert page.locator("[data-traffic-ports] tr", has_text="ether1").is_visible()
    assert "Mbps" in page.locator("[data-traffic-rx]").inner_text() or "kbps" in page.locator(
        "[data-traffic-rx]").inner_text()
    page.screenshot(path=SCREENSHOTS / "router-traffic.png", full_page=True)
    page.close()
