"""A phone buys a package in the captive portal against the Daraja simulator: the waiting page
turns into the router login by itself, and a page closed during the wait is recovered with
"Already paid?"."""
import pytest

from billing.models import Payment
from hotspot import services
from hotspot.models import Package

from .browser import SCREENSHOTS
from .payments_kit import served_with_daraja, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "254722000111"
ROUTER = "mac=AA:BB:CC:DD:EE:31&ip=10.5.50.41&link-login-only=http://10.5.50.1/login&link-orig=http://example.com/"


served_env = served_with_daraja  # this module's served app asks the Daraja simulator


@pytest.fixture
def phone(chromium):
    """A phone on the hotspot: the router's login page is played by Playwright, which keeps what
    the portal posted to it."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.router_posts = []

    def router_login(route):
        context.router_posts.append(route.request.post_data or "")
        route.fulfill(status=200, content_type="text/html", body="<h1>You are logged in</h1>")

    context.route("http://10.5.50.1/**", router_login)
    yield context
    context.close()


def test_buy_on_a_phone_wait_and_get_logged_in(served, daraja, phone):
    package = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440))
    daraja.script(PHONE, answer_after=1.5)
    page = phone.new_page()
    page.goto(f"{served}/portal/?{ROUTER}")
    page.check(f"input[name=package][value='{package.pk}']")
    page.fill("#buy-phone", "0722 000 111")
    page.screenshot(path=SCREENSHOTS / "portal-buy.png", full_page=True)
    page.click("text=Pay with M-Pesa")
    page.wait_for_selector("text=Check your phone")
    page.screenshot(path=SCREENSHOTS / "portal-waiting.png", full_page=True)
    # The callback arrives; the page moves on by itself and posts the credentials to the router.
    page.wait_for_selector("text=You are logged in", timeout=15000)
    payment = Payment.objects.select_related("customer").get()
    assert payment.status == Payment.Status.COMPLETED
    assert f"username={payment.customer.username}" in phone.router_posts[-1]
    assert f"password={payment.customer.password}" in phone.router_posts[-1]


def test_close_the_page_while_waiting_then_already_paid(served, daraja, phone):
    services.save_package(Package(name="1 Hour", price=10, validity_minutes=60))
    daraja.script(PHONE, answer_after=2.0)
    page = phone.new_page()
    page.goto(f"{served}/portal/?{ROUTER}")
    page.fill("#buy-phone", "0722000111")
    page.click("text=Pay with M-Pesa")
    page.wait_for_selector("text=Check your phone")
    page.close()  # the customer switches to the M-Pesa prompt and the browser drops the page
    wait_for(lambda: Payment.objects.filter(status=Payment.Status.COMPLETED).exists(), 10)
    page = phone.new_page()
    page.goto(f"{served}/portal/?{ROUTER}")
    page.fill("#recover-phone", "0722 000 111")
    page.screenshot(path=SCREENSHOTS / "portal-already-paid.png", full_page=True)
    page.click("text=Find my payment")
    page.wait_for_selector("text=You are logged in", timeout=15000)
    customer = Payment.objects.get().customer
    assert f"username={customer.username}" in phone.router_posts[-1]
