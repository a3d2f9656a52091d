"""In a real browser: sign in, see the dashboard, watch a card change when a customer is added."""
import pytest

from hotspot import services as hotspot
from hotspot.models import Customer

from .browser import SCREENSHOTS, elsewhere
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, username="amani"):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_card_changes_live_when_a_customer_is_added(served, chromium):
    from accounts.roles import ADMIN

    make_staff("amani", ADMIN)
    Customer.objects.create(phone="254700000001")
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, served)
    assert page.locator("nav.menu a", has_text="Staff").is_hidden()  # in the closed System group
    page.click("nav.menu summary >> text=System")
    assert page.locator("nav.menu a", has_text="Staff").is_visible()
    card = page.locator('[data-stat="customers"] .value')
    assert card.inner_text() == "1"
    page.wait_for_selector('[data-live-indicator][data-state="connected"]', timeout=10_000)

    elsewhere(hotspot.create_customer, "0722 000 002", name="Wanjiru")  # commits, then publishes

    page.wait_for_function(
        "() => document.querySelector('[data-stat=\"customers\"] .value').textContent.trim() === '2'",
        timeout=10_000)
    page.screenshot(path=SCREENSHOTS / "dashboard-live.png", full_page=True)
    page.close()


def test_pages_work_without_javascript_on_a_phone(served, chromium):
    from accounts.roles import ADMIN

    make_staff("amani", ADMIN)
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page = context.new_page()
    sign_in(page, served)
    assert page.locator('[data-stat="customers"]').is_visible()
    assert page.locator("nav.menu").is_hidden()  # the sidebar folds into a menu
    page.click("label.menu-toggle")
    page.click("nav.menu summary >> text=System")  # <details> opens without JavaScript
    page.click("text=Staff")
    page.wait_for_url(f"{served}/staff/")
    assert "amani" in page.content()
    page.screenshot(path=SCREENSHOTS / "staff-phone.png", full_page=True)
    context.close()
