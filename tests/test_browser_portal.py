"""In a real browser on a phone, JavaScript off: a voucher gets the device online and shows what
is left; and an admin prints a voucher batch."""
import pytest

from accounts.roles import ADMIN
from hotspot import services, vouchers
from hotspot.models import Package

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_voucher_on_a_phone_without_javascript(served, chromium):
    package = services.save_package(Package(name="Daily", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    code = vouchers.generate_batch(package, 1).vouchers.get().code
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740},
                                   locale="sw-KE")
    page = context.new_page()
    page.goto(f"{served}/portal/?mac=AA:BB:CC:DD:EE:20&ip=10.5.50.40&link-login-only=http://10.5.50.1/login"
              "&link-orig=http://example.com/")
    assert page.locator("h1").inner_text() == "Ingia mtandaoni"  # the browser asked for Kiswahili
    page.screenshot(path=SCREENSHOTS / "portal-phone.png", full_page=True)
    page.fill("#code", vouchers.display(code))
    page.click("text=Tumia vocha")
    assert page.locator("form#go").get_attribute("action") == "http://10.5.50.1/login"
    page.screenshot(path=SCREENSHOTS / "portal-connect.png", full_page=True)
    page.click("text=Intaneti yako")
    assert "Muda uliobaki" in page.content() and "Daily" in page.content()
    page.screenshot(path=SCREENSHOTS / "portal-status.png", full_page=True)
    context.close()


def test_an_admin_generates_a_batch_and_opens_the_sheet(served, chromium):
    services.save_package(Package(name="1 Hour", price=10, validity_minutes=60))
    make_staff("amani", ADMIN)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "amani")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{served}/vouchers/")
    page.select_option("select[name=package]", label="1 Hour")
    page.fill("input[name=count]", "24")
    page.click("button:has-text('Generate')")
    page.click("text=Printable sheet")
    assert page.locator(".card").count() == 24 and page.locator(".card svg").count() == 24
    page.screenshot(path=SCREENSHOTS / "voucher-sheet.png", full_page=True)
    page.close()
