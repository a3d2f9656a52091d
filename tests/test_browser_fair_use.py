"""Fair use on a phone (360×740) in Chromium (issue 20): a customer slowed down by their allowance sees
"Buy a boost" on the account page, buys one by an M-Pesa prompt through the Daraja simulator, and the
page shows full speed without a reload (the callback's payment.completed reaches the page's socket)."""
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import Payment
from hotspot import services, subscriptions
from hotspot.models import Boost, Package
from radius.models import RadAcct

from .browser import SCREENSHOTS
from .payments_kit import served_with_daraja

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "254722000112"
SHOTS = "/tmp/team/shots"
MB = 2**20

served_env = served_with_daraja  # this module's served app asks the Daraja simulator


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    yield context
    context.close()


def test_a_throttled_customer_buys_a_boost_by_mpesa_and_sees_full_speed_in_place(served, daraja, phone):
    customer = services.create_customer(PHONE, name="Achieng")
    weekly = services.save_package(Package(
        name="Weekly FUP", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        daily_data_limit_mb=1024, after_allowance="throttle", fup_rate_limit="512k/512k"))
    extra = services.save_package(Package(name="Boost 500 MB", kind="boost", price=50, validity_minutes=1440,
                                          data_limit_mb=500))
    subscriptions.activate(customer, weekly, "payment", now=timezone.now() - timedelta(hours=1))
    start = timezone.now() - timedelta(minutes=30)  # an ended session: no router to send a CoA to
    RadAcct.objects.create(acct_session_id="b-1", acct_unique_id="u-b-1", username=customer.username,
                           nas_ip_address="127.0.0.1", acct_start_time=start, acct_update_time=start,
                           acct_stop_time=start + timedelta(minutes=20), acct_input_octets=20 * MB,
                           acct_output_octets=100 * MB)
    daraja.script(PHONE, answer_after=3.0)

    page = phone.new_page()
    page.goto(f"{served}/portal/account/sign-in/")
    page.fill("input[name=phone]", "0722 000 112")
    page.fill("input[name=password]", customer.password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{served}/portal/account/")
    assert page.locator("#speed-now").inner_text() == "512 kbit/s"
    assert page.locator("#subscription", has_text="Slowed down").is_visible()
    boosts = page.locator("#boosts")
    assert boosts.locator("h2").inner_text() == "Buy a boost"
    assert boosts.locator(".pk", has_text="Boost 500 MB").locator("text=Paid by an M-Pesa prompt").is_visible()
    page.screenshot(path=SCREENSHOTS / "boost.png", full_page=True)
    Path(SHOTS).mkdir(parents=True, exist_ok=True)  # a fresh machine has no /tmp/team
    shutil.copy(SCREENSHOTS / "boost.png", f"{SHOTS}/boost.png")

    page.click(f"form[action='/portal/account/boosts/{extra.pk}/buy/'] button")
    page.wait_for_selector("text=Check your phone")
    page.evaluate("window.stillThisPage = true")  # gone if anything reloads the page
    # The prompt is answered on the phone; M-Pesa calls back; the speed changes in place.
    page.locator("#speed-now", has_text="6 Mbit/s").wait_for(timeout=15000)
    assert page.evaluate("window.stillThisPage") is True
    assert page.locator("#subscription", has_text="Full speed").is_visible()
    assert page.locator("#subscription", has_text="This package: used 120.0 MB · 480.0 MB left").is_visible()
    assert page.locator("#boosts").inner_text() == ""  # nothing to offer at full speed
    payment = Payment.objects.get(package=extra)
    assert payment.status == Payment.Status.COMPLETED and Boost.objects.get().megabytes == 500
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=SCREENSHOTS / "boost-bought.png", full_page=True)
    Path(SHOTS).mkdir(parents=True, exist_ok=True)  # a fresh machine has no /tmp/team
    shutil.copy(SCREENSHOTS / "boost-bought.png", f"{SHOTS}/boost-bought.png")


def test_the_status_page_leads_to_a_boost_and_shows_full_speed_without_a_reload(served, daraja, phone):
    """The portal's status page (its token link, no account session): "Buy a boost" leads to the
    account, where the boost is bought by M-Pesa in another tab; the status page, left open, shows
    full speed by its 10 s poll, without a reload."""
    from hotspot.portal import status_token

    customer = services.create_customer(PHONE, name="Achieng")
    weekly = services.save_package(Package(
        name="Weekly FUP", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        after_allowance="throttle", fup_rate_limit="512k/512k"))
    extra = services.save_package(Package(name="Boost 500 MB", kind="boost", price=50, validity_minutes=1440,
                                          data_limit_mb=500))
    subscriptions.activate(customer, weekly, "payment", now=timezone.now() - timedelta(hours=1))
    start = timezone.now() - timedelta(minutes=30)
    RadAcct.objects.create(acct_session_id="b-2", acct_unique_id="u-b-2", username=customer.username,
                           nas_ip_address="127.0.0.1", acct_start_time=start, acct_update_time=start,
                           acct_stop_time=start + timedelta(minutes=20), acct_input_octets=20 * MB,
                           acct_output_octets=100 * MB)
    daraja.script(PHONE, answer_after=1.0)

    status = phone.new_page()
    status.goto(f"{served}/portal/status/?t={status_token(customer.username)}&lang=en")
    assert status.locator("#speed-now").inner_text() == "512 kbit/s"
    offer = status.locator("#boost a", has_text="Buy a boost")
    assert offer.is_visible()
    status.evaluate("window.stillThisPage = true")

    account = phone.new_page()  # the link, opened in another tab
    account.goto(f"{served}{offer.get_attribute('href')}")
    account.wait_for_url("**/portal/account/sign-in/**")
    account.fill("input[name=phone]", "0722 000 112")
    account.fill("input[name=password]", customer.password)
    account.click("button:has-text('Sign in')")
    account.wait_for_url(f"{served}/portal/account/**")
    account.click(f"form[action='/portal/account/boosts/{extra.pk}/buy/'] button")
    account.wait_for_selector("text=Check your phone")

    status.locator("#speed-now", has_text="6 Mbit/s").wait_for(timeout=30000)
    assert status.evaluate("window.stillThisPage") is True
    assert status.locator("#status", has_text="Full speed").is_visible()
    assert status.locator("#boost-offer").inner_text() == ""
    assert Payment.objects.get(package=extra).status == Payment.Status.COMPLETED
    assert status.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    status.screenshot(path=SCREENSHOTS / "status-boosted.png", full_page=True)
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    shutil.copy(SCREENSHOTS / "status-boosted.png", f"{SHOTS}/status-boosted.png")
