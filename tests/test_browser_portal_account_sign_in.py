"""The customer's own doors on a phone (360×740) in Chromium: signing in, signing a device off
through the router (the NAS simulator answers the served app's Disconnect), and a password change
on one phone that sends the other phone's open page to the sign-in page by itself."""
import pytest
from django.db import connections
from django.utils import timezone

from hotspot import services, subscriptions
from hotspot.models import Package
from radius import services as radius
from radius.management.commands.run_nas_simulator import Command as NasSimulatorCommand
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator

from .browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "router-coa-secret-1"


@pytest.fixture
def nas(transactional_db):
    stop = NasSimulatorCommand._account_stop("127.0.0.1")

    def as_a_router(request, how):
        """The session's accounting row is closed before the ACK goes back (Accounting-Stop), on the
        simulator's thread, whose connection is closed after so the test database can be dropped."""
        try:
            stop(request, how)
        finally:
            connections.close_all()

    with NasSimulator(secret=SECRET.encode(), before_answer=as_a_router) as sim:
        radius.register_nas("127.0.0.1", SECRET, "Kilimani", coa_port=sim.port)
        yield sim


def a_phone(chromium):
    return chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)


def signed_in_page(context, served, customer):
    page = context.new_page()
    page.goto(f"{served}/portal/account/sign-in/?lang=en")
    page.fill("input[name=phone]", customer.username)
    page.fill("input[name=password]", customer.password.upper())
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{served}/portal/account/")
    return page


def test_a_device_is_signed_off_and_a_new_password_sends_the_other_phone_to_sign_in(served, chromium, nas):
    customer = services.create_customer("0722 000 222", name="Baraka")
    package = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    subscriptions.activate(customer, package, "payment")
    RadAcct.objects.create(acct_session_id="81000001", acct_unique_id="u-81000001", username=customer.username,
                           nas_ip_address="127.0.0.1", framed_ip_address="10.5.0.31",
                           calling_station_id="AA-BB-CC-00-00-31", acct_start_time=timezone.now())
    mine, other = a_phone(chromium), a_phone(chromium)
    try:
        page, watching = signed_in_page(mine, served, customer), signed_in_page(other, served, customer)
        devices = page.locator("#devices")
        assert devices.get_by_text("AA-BB-CC-00-00-31").is_visible()
        assert devices.get_by_text("Connected now").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.screenshot(path=SCREENSHOTS / "account-devices.png", full_page=True)

        page.click("button:has-text('Sign this device out')")
        page.wait_for_selector("text=The device was signed out.")
        [got] = nas.received
        assert got.kind == "disconnect" and got.attributes["Acct-Session-Id"] == "81000001"
        assert not page.locator("button:has-text('Sign this device out')").count()  # its session is closed

        watching.goto(f"{served}/portal/account/password/")
        page.click("nav >> text=Password")
        page.fill("#current", customer.password)
        page.fill("#new", "Chai4Two")
        page.fill("#again", "chai4two")
        page.click("button:has-text('Change password')")
        page.wait_for_selector("text=Password changed.")
        page.screenshot(path=SCREENSHOTS / "account-password.png", full_page=True)
        # The other phone's page is signed out: at the next event on the account (a session ending) its
        # socket is closed with 4403 and its next poll finds the sign-in page, and goes there.
        RadAcct.objects.create(acct_session_id="81000002", acct_unique_id="u-81000002", username=customer.username,
                               nas_ip_address="127.0.0.1", calling_station_id="AA-BB-CC-00-00-32",
                               acct_start_time=timezone.now())
        page.goto(f"{served}/portal/account/")
        page.click("button:has-text('Sign this device out')")
        watching.wait_for_url("**/portal/account/sign-in/**", timeout=15000)
        assert page.url == f"{served}/portal/account/"  # this phone stays in
    finally:
        mine.close()
        other.close()
