"""In a real browser: support opens a PPPoE customer's page, gives them a fixed address outside their
service's network (a form error), then one inside it, and sees it on the customer's page."""
import pytest

from accounts.roles import SUPPORT
from hotspot import services
from hotspot.models import ServiceType
from routers.models import Router, RouterService

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_support_gives_a_pppoe_customer_a_fixed_address(served, chromium):
    make_staff("samuel", SUPPORT)
    router = Router.objects.create(name="Kahawa West", host="10.0.0.7")
    RouterService.objects.create(router=router, kind=RouterService.Kind.PPPOE, name="pppoe1", managed=True,
                                 interfaces=["ether4"], network="10.5.60.0/24")
    customer = services.create_customer("0722 300 402", name="Mama Wanjiku", service_type=ServiceType.PPPOE)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "samuel")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    page.goto(f"{served}/customers/{customer.pk}/")
    assert "no service chosen" in page.inner_text("main.content")
    page.click("text=Change")
    page.select_option("select[name=service]", label="Kahawa West · pppoe1 (10.5.60.0/24)")
    page.fill("input[name=static_ip]", "10.5.61.9")
    page.click("main.content button[type=submit]")
    assert "10.5.61.9 is not in pppoe1's network 10.5.60.0/24." in page.inner_text("main.content")
    page.screenshot(path=str(SCREENSHOTS / "pppoe-connection-refused.png"), full_page=True)

    page.fill("input[name=static_ip]", "10.5.60.209")
    page.click("main.content button[type=submit]")
    page.wait_for_url(f"{served}/customers/{customer.pk}/")
    account = page.inner_text("main.content")
    assert "PPPoE on Kahawa West · pppoe1 · fixed address 10.5.60.209" in account
    page.screenshot(path=str(SCREENSHOTS / "pppoe-connection-saved.png"), full_page=True)
