"""In a real browser: a technician opens a router's page, edits its hotspot service (Edit in the
Services panel), is refused a port the PPPoE service has (the form's error), then moves it to
another port and network and lands on the provisioning run applying it; on a phone too."""
import pytest

from accounts.roles import TECHNICIAN
from routers import router_services, services
from routers.routeros_simulator import RouterOSSimulator

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
API_PASSWORD = "githurai-api-secret"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_technician_edits_a_service_on_the_router_page(served, chromium, width):
    make_staff("wanjiru", TECHNICIAN)
    with RouterOSSimulator(identity="Githurai", password=API_PASSWORD, factory_default=True) as sim:
        router = services.create_router(name="Githurai", host="127.0.0.1", api_port=sim.port,
                                        api_password=API_PASSWORD)
        router_services.add_service(router, kind="hotspot", interfaces=["ether2", "ether3"], network="10.5.50.0/24")
        router_services.add_service(router, kind="pppoe", interfaces=["ether4"], network="10.10.0.0/24")
        page = chromium.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{served}/login/")
        page.fill("input[name=username]", "wanjiru")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{served}/")

        page.goto(f"{served}/routers/{router.pk}/")
        page.locator("section[aria-label=Services]").screenshot(path=str(SCREENSHOTS / f"services-panel-{width}.png"))
        page.click("tr[data-service=hotspot1] >> text=Edit")
        page.wait_for_url(f"{served}/routers/{router.pk}/services/*/edit/")
        assert page.is_checked("input[value=ether2]") and page.is_disabled("input[value=ether4]")
        page.screenshot(path=str(SCREENSHOTS / f"service-edit-{width}.png"), full_page=True)

        page.fill("input[name=network]", "10.10.0.0/25")
        page.click("main.content button[type=submit]")
        assert "overlaps pppoe1" in page.inner_text("[role=alert]")
        page.screenshot(path=str(SCREENSHOTS / f"service-edit-refused-{width}.png"), full_page=True)

        page.uncheck("input[value=ether3]")
        page.check("input[value=ether5]")
        page.fill("input[name=network]", "10.5.60.0/24")
        page.click("main.content button[type=submit]")
        page.wait_for_url(f"{served}/routers/{router.pk}/provisioning/*/")
        assert "hotspot1 now on ether2, ether5 (10.5.60.0/24)" in page.inner_text("main.content")
        page.close()
