"""The customer's account on a phone (360×740) in Chromium where script does not run (issue 17: "no
JavaScript needed"): signing in, the time left, a top-up through the Daraja simulator (the balance shows
at the next load), a receipt downloaded, a ticket opened; where websockets are blocked, the page's 10 s
poll still changes the balance in place; and a slowed customer's status page leads to "Buy a boost".
Screenshots: /tmp/team/shots/account-nojs.png, status-boost.png (and var/screenshots/)."""
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing import payments
from billing.models import Payment
from hotspot import services, subscriptions
from hotspot.models import Package
from hotspot.portal import status_token
from monitoring.models import Ticket
from radius.models import RadAcct

from .browser import SCREENSHOTS, elsewhere
from .payments_kit import served_with_daraja, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "254722000113"
SHOTS = Path("/tmp/team/shots")
MB = 2**20

served_env = served_with_daraja  # this module's served app asks the Daraja simulator


def phone(chromium, **options):
    return chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, **options)


def customer_with_a_week(finance_clerk):
    customer = services.create_customer(PHONE, name="Nafula")
    weekly = services.save_package(Package(name="Weekly 5GB", price=300, validity_minutes=7 * 1440,
                                           data_limit_mb=5120))
    elsewhere(payments.record_cash, customer=customer, amount=Decimal("330"), by=finance_clerk, package=weekly)
    return customer


def sign_in(page, served, customer, start="/portal/account/"):
    page.goto(f"{served}{start}")
    page.wait_for_url("**/portal/account/sign-in/**")
    page.fill("input[name=phone]", "0722 000 113")
    page.fill("input[name=password]", customer.password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{served}/portal/account/")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path in (SHOTS / name, SCREENSHOTS / name):
        page.screenshot(path=path, full_page=True)


def test_without_javascript_a_customer_tops_up_downloads_a_receipt_and_opens_a_ticket(
        served, daraja, chromium, finance_clerk):
    customer = customer_with_a_week(finance_clerk)
    daraja.script(PHONE, answer_after=1.0)
    context = phone(chromium, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, served, customer)
        assert page.locator("#subscription", has_text="Weekly 5GB").is_visible()
        assert page.locator("#subscription", has_text="6 days 23 h").is_visible()
        assert page.locator("#wallet").inner_text() == "KES 30"

        page.fill("#top-up-amount", "200")
        page.click("button:has-text('Top up')")
        page.wait_for_url(f"{served}/portal/account/")  # the form's own post and redirect, no script
        assert page.locator("text=Check your phone").is_visible()
        assert page.locator("#wallet-waiting").inner_text() == "Waiting for your M-Pesa PIN: KES 200"
        paid = wait_for(lambda: Payment.objects.filter(method=Payment.Method.MPESA_STK,
                                                       status=Payment.Status.COMPLETED).first(), seconds=20)
        assert page.locator("#wallet").inner_text() == "KES 30"  # no script: the page waits to be loaded again
        page.reload()
        assert page.locator("#wallet").inner_text() == "KES 230"
        assert page.locator("#wallet-waiting").inner_text() == ""
        assert page.locator("#payments", has_text=paid.mpesa_receipt).is_visible()
        assert page.locator("script[src*='portal-account.js']").count() == 1  # there, and not run
        shoot(page, "account-nojs.png")

        page.click(f"a[href='/portal/account/payments/{paid.pk}/receipt/']")
        page.wait_for_selector(f"text={paid.mpesa_receipt}")
        with page.expect_download() as downloading:
            page.click("text=Download this receipt")
        download = downloading.value
        assert download.suggested_filename == f"receipt-{paid.mpesa_receipt}.html"
        kept = Path(download.path()).read_text()
        assert paid.mpesa_receipt in kept and "KES 200" in kept and "<script" not in kept

        page.click("nav >> text=Help")
        page.click("text=Open a ticket")
        page.fill("input[name=subject]", "Slow in the evening")
        page.select_option("select[name=category]", "slow")
        page.fill("textarea[name=body]", "From 8 pm it crawls")
        page.click("button[type=submit] >> text=Send")
        ticket = wait_for(lambda: Ticket.objects.filter(customer=customer).first())
        page.wait_for_url(f"{served}/portal/account/tickets/{ticket.number}/")
        assert page.locator("text=Your ticket is open").is_visible()
        assert page.locator("text=From 8 pm it crawls").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    finally:
        context.close()


def test_where_websockets_are_blocked_the_poll_changes_the_balance_in_place(served, daraja, chromium, finance_clerk):
    customer = customer_with_a_week(finance_clerk)
    daraja.script(PHONE, answer_after=1.0)
    context = phone(chromium)
    # A network that blocks websockets: the page's socket never opens.
    context.add_init_script("window.WebSocket = function () { throw new Error('blocked'); };")
    try:
        page = context.new_page()
        sign_in(page, served, customer)
        page.fill("#top-up-amount", "200")
        page.click("button:has-text('Top up')")
        page.wait_for_selector("text=Check your phone")
        page.evaluate("window.stillThisPage = true")  # gone if anything reloads the page
        page.locator("#wallet", has_text="KES 230").wait_for(timeout=30000)  # the 10 s poll, twice at most
        assert page.evaluate("window.stillThisPage") is True
        assert page.locator("#wallet-waiting").inner_text() == ""
    finally:
        context.close()


def test_a_slowed_customers_status_page_leads_to_buy_a_boost(served, chromium):
    customer = services.create_customer(PHONE, name="Nafula")
    weekly = services.save_package(Package(
        name="Weekly FUP", price=300, validity_minutes=10080, rate_limit="3M/6M", data_limit_mb=100,
        after_allowance="throttle", fup_rate_limit="512k/512k"))
    services.save_package(Package(name="Boost 500 MB", kind="boost", price=50, validity_minutes=1440,
                                  data_limit_mb=500))
    subscriptions.activate(customer, weekly, "payment", now=timezone.now() - timedelta(hours=1))
    start = timezone.now() - timedelta(minutes=30)
    RadAcct.objects.create(acct_session_id="n-1", acct_unique_id="u-n-1", username=customer.username,
                           nas_ip_address="127.0.0.1", acct_start_time=start, acct_update_time=start,
                           acct_stop_time=start + timedelta(minutes=20), acct_input_octets=20 * MB,
                           acct_output_octets=100 * MB)
    context = phone(chromium, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{served}/portal/status/?t={status_token(customer.username)}&lang=en")
        assert page.locator("#speed-now").inner_text() == "512 kbit/s"
        assert page.locator("text=Slowed down: your data allowance is used up").is_visible()
        assert page.locator("#boost h2").inner_text() == "Buy a boost"
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        shoot(page, "status-boost.png")
        page.click("#boost a")
        page.wait_for_url("**/portal/account/sign-in/**")
        page.fill("input[name=phone]", "0722 000 113")
        page.fill("input[name=password]", customer.password)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(f"{served}/portal/account/**")
        assert page.locator("#boosts h2").inner_text() == "Buy a boost"
        assert page.locator("#boosts", has_text="Boost 500 MB").is_visible()
    finally:
        context.close()
