"""The customer's account on a phone (360×740) in Chromium: sign in, see the time left, top the
wallet up through the Daraja simulator and watch the balance change without reloading (the
payment's callback reaches the served app, whose websocket tells the page to fetch its live parts)."""
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing import payments
from billing.models import Invoice, Payment
from hotspot import services
from hotspot.models import Package, ServiceType

from .browser import SCREENSHOTS, elsewhere
from .payments_kit import served_with_daraja

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = "254722000111"
SHOTS = "/tmp/team/shots"

served_env = served_with_daraja  # this module's served app asks the Daraja simulator


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    yield context
    context.close()


def test_a_customer_signs_in_sees_time_left_tops_up_and_the_balance_changes_in_place(
        served, daraja, phone, finance_clerk):
    customer = services.create_customer(PHONE, name="Akinyi")
    weekly = services.save_package(Package(name="Weekly 5GB", price=300, validity_minutes=7 * 1440,
                                           data_limit_mb=5120))
    elsewhere(payments.record_cash, customer=customer, amount=Decimal("330"), by=finance_clerk, package=weekly)
    daraja.script(PHONE, answer_after=3.0)

    page = phone.new_page()
    page.goto(f"{served}/portal/account/")
    page.wait_for_url("**/portal/account/sign-in/**")
    page.fill("input[name=phone]", "0722 000 111")
    page.fill("input[name=password]", customer.password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{served}/portal/account/")
    assert page.locator("#subscription", has_text="Weekly 5GB").is_visible()
    assert page.locator("#subscription", has_text="6 days 23 h").is_visible()
    assert page.locator("#wallet").inner_text() == "KES 30"

    page.fill("#top-up-amount", "200")
    page.click("button:has-text('Top up')")
    page.wait_for_selector("text=Check your phone")
    assert page.locator("#wallet-waiting").inner_text() == "Waiting for your M-Pesa PIN: KES 200"
    page.evaluate("window.stillThisPage = true")  # gone if anything reloads the page
    # The prompt is answered on the phone; M-Pesa calls back; the balance changes in place.
    page.locator("#wallet", has_text="KES 230").wait_for(timeout=15000)
    assert page.locator("#wallet-waiting").inner_text() == ""
    assert page.evaluate("window.stillThisPage") is True
    payment = Payment.objects.get(method=Payment.Method.MPESA_STK)
    assert payment.status == Payment.Status.COMPLETED and payment.amount == 200
    page.locator("#payments", has_text=payment.mpesa_receipt).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=SCREENSHOTS / "account-home.png", full_page=True)
    Path(SHOTS).mkdir(parents=True, exist_ok=True)  # a fresh machine has no /tmp/team
    shutil.copy(SCREENSHOTS / "account-home.png", f"{SHOTS}/account-home.png")

    # The payment's receipt, one tap away.
    page.click(f"a[href='/portal/account/payments/{payment.pk}/receipt/']")
    page.wait_for_selector(f"text={payment.mpesa_receipt}")
    page.screenshot(path=SCREENSHOTS / "account-receipt.png", full_page=True)


def test_a_pppoe_customer_pays_an_open_invoice_and_sees_it_paid_in_place(served, daraja, phone):
    customer = services.create_customer(PHONE, name="Otieno", service_type=ServiceType.PPPOE)
    monthly = services.save_package(Package(name="Home 10M", price=2500, validity_minutes=43200,
                                            service_type=ServiceType.PPPOE, rate_limit="10M/10M"))
    start = timezone.now() + timedelta(days=3)
    invoice = Invoice.objects.create(number="INV000042", customer=customer, package=monthly, amount=monthly.price,
                                     period_start=start, period_end=start + timedelta(days=30), due_at=start)
    daraja.script(PHONE, answer_after=3.0)
    page = phone.new_page()
    page.goto(f"{served}/portal/account/sign-in/?lang=sw")
    page.fill("input[name=phone]", customer.username)
    page.fill("input[name=password]", customer.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/portal/account/")
    assert page.locator("#invoices", has_text="Inadaiwa").is_visible()
    page.click(f"form[action='/portal/account/invoices/{invoice.pk}/pay/'] button")
    page.wait_for_selector("text=Angalia simu yako")
    page.evaluate("window.stillThisPage = true")
    page.locator("#invoices", has_text="Imelipwa").wait_for(timeout=15000)
    assert page.evaluate("window.stillThisPage") is True
    assert page.locator(f"form[action='/portal/account/invoices/{invoice.pk}/pay/']").count() == 0
    assert page.locator("#subscription", has_text="Home 10M").is_visible()  # the paid month is running
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=SCREENSHOTS / "account-invoice-sw.png", full_page=True)
