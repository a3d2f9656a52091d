"""A support call end to end in Chromium: the customer phones, the agent finds them by phone in the top
bar, sees the failed payment, sends an M-Pesa prompt (the Daraja simulator answers), sees them
online, disconnects them (after confirming) and extends them by a day — at desktop and phone size."""
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payment
from hotspot import services
from hotspot.models import Package, Subscription
from radius import services as radius
from radius.models import RadAcct
from radius.nas_simulator import NasSimulator

from .browser import SCREENSHOTS
from .payments_kit import served_with_daraja, wait_for
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
served_env = served_with_daraja
NAS_SECRET = "support-call-secret"


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("size", [(1280, 800), (360, 740)], ids=["desktop", "phone"])
def test_a_support_call_from_search_to_extend(served, daraja, chromium, size):
    make_staff("sam", "Support", first_name="Sam")
    daily = services.save_package(Package(name="Daily 1GB", price=50, validity_minutes=1440, rate_limit="2M/5M"))
    customer = services.create_customer("0712 345 678", name="Wanjiru Kamau")
    Payment.objects.create(customer=customer, phone=customer.phone, amount=50, package=daily,
                           status=Payment.Status.CANCELLED, result_desc="Request cancelled by user")
    daraja.script(customer.phone, answer_after=0.5)
    width, height = size
    page = chromium.new_page(viewport={"width": width, "height": height})
    shot = f"support-call-{width}"
    with NasSimulator(secret=NAS_SECRET.encode()) as nas:
        radius.register_nas("127.0.0.1", NAS_SECRET, "Kilimani", coa_port=nas.port)
        _sign_in(page, served)

        page.fill("form[role=search] input[name=q]", "0712345678")
        page.press("form[role=search] input[name=q]", "Enter")
        page.wait_for_url(f"{served}/customers/{customer.pk}/")
        assert page.locator("text=Request cancelled by user").is_visible()
        page.screenshot(path=SCREENSHOTS / f"{shot}-1-customer.png", full_page=True)

        page.click("text=Recharge")
        page.select_option("select[name=package]", str(daily.pk))
        page.click("text=Send M-Pesa prompt")
        page.wait_for_selector("text=M-Pesa prompt for Daily 1GB")
        wait_for(lambda: Payment.objects.filter(customer=customer, status=Payment.Status.COMPLETED).exists())
        subscription = Subscription.objects.get(customer=customer, status=Subscription.Status.ACTIVE)
        customer.refresh_from_db()

        # The router reports the session (what FreeRADIUS writes on Accounting-Start).
        started = timezone.now() - timedelta(minutes=3)
        RadAcct.objects.create(acct_session_id="81a00001", acct_unique_id="support-call-1", username=customer.username,
                               nas_ip_address="127.0.0.1", framed_ip_address="10.5.50.77",
                               calling_station_id="AA-BB-CC-00-00-77", acct_start_time=started,
                               acct_update_time=started)
        page.reload()
        assert page.locator("text=10.5.50.77").is_visible()
        page.screenshot(path=SCREENSHOTS / f"{shot}-2-online.png", full_page=True)

        page.click(".toolbar >> text=Disconnect")
        page.wait_for_selector("text=Every session they have open ends now")  # asks first
        assert not nas.received
        page.click("button[type=submit] >> text=Disconnect")
        page.wait_for_url(f"{served}/customers/{customer.pk}/")
        assert [r.attributes.get("User-Name") for r in nas.received] == [customer.username]

    page.click("text=Extend")
    page.fill("input[name=days]", "1")
    page.fill("input[name=reason]", "sorry for the trouble")
    page.click("button[type=submit] >> text=Extend")
    page.wait_for_url(f"{served}/customers/{customer.pk}/")
    was = subscription.expires_at
    subscription.refresh_from_db()
    assert subscription.expires_at == was + timedelta(days=1)
    assert page.locator("text=sorry for the trouble").first.is_visible()
    # Nothing sticks out sideways: every table fits or scrolls inside its own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=SCREENSHOTS / f"{shot}-3-extended.png", full_page=True)
    page.close()
