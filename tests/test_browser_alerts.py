"""In a real browser, at desktop and phone width: a technician chooses router alerts by Telegram on
/alerts/preferences/ and sends themself a test alert, which the Telegram Bot API simulator receives;
then a router stays offline, the real evaluator opens an incident, and on /alerts/ they see it open,
acknowledge it and see that they did. Neither page scrolls sideways; both are screenshotted."""
from datetime import timedelta

import pytest

from accounts.roles import TECHNICIAN
from monitoring.alerts import incidents
from monitoring.models import AlertKind, Incident
from routers import polling
from routers.models import Router

from .alerts_kit import TECH_CHAT
from .browser import SCREENSHOTS, elsewhere
from .routers_kit import make_router
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def served_env(telegram):
    # The served app sends the test alert itself: it must reach the same simulator.
    return {"TELEGRAM_API_URL": telegram.base_url, "TELEGRAM_TIMEOUT_SECONDS": "2"}


def sign_in(page, served: str, username: str) -> None:
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")


def sideways(page) -> int:
    """How far the page scrolls across (0: it fits the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def router_left_offline(sim) -> Incident:
    """A router seen once, then dead; the evaluator run as of 11 minutes later (threshold: 10)."""
    make_router(sim)
    polling.poll_all()
    seen = Router.objects.get().last_seen_at
    sim.set_dead("refused")
    polling.poll_all()
    assert Router.objects.get().status == Router.Status.OFFLINE
    incidents.evaluate(seen + timedelta(minutes=11), kinds=[AlertKind.ROUTER_OFFLINE])
    return Incident.objects.get()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_technician_gets_a_test_alert_then_acknowledges_an_incident(served, chromium, telegram, kilimani,
                                                                      settings, width):
    settings.ROUTER_POLL_TIMEOUT_SECONDS = 1
    make_staff("tabitha", TECHNICIAN, first_name="Tabitha")
    page = chromium.new_page(viewport={"width": width, "height": 900})
    sign_in(page, served, "tabitha")

    page.goto(f"{served}/alerts/preferences/")
    assert page.locator("text=Send me a test alert").count() == 0  # nothing saved yet
    page.check("input[name=routes][value='router_offline:telegram']")
    page.fill("input[name=telegram_chat_id]", TECH_CHAT)
    page.click("button:has-text('Save')")
    page.wait_for_selector("text=Your alert preferences are saved.")
    assert page.is_checked("input[name=routes][value='router_offline:telegram']")
    test_button = page.locator("button[name=channel][value=telegram]")
    assert test_button.is_visible()
    test_button.click()
    page.wait_for_selector(f"text=Test alert sent by Telegram to {TECH_CHAT}.")
    assert [(m["chat_id"], m["text"].splitlines()[1]) for m in telegram.messages] == [
        (TECH_CHAT, "Alerts reach tabitha by Telegram.")]

    incident = elsewhere(router_left_offline, kilimani)
    assert incident.is_open and incident.label == "Kilimani Hotspot"
    assert [m["text"].splitlines()[0].split("] ", 1)[1] for m in telegram.messages][1:] == [
        "ALERT Router offline: Kilimani Hotspot"]

    page.goto(f"{served}/alerts/")
    row = page.locator("#results tbody tr", has_text="Kilimani Hotspot")
    assert row.locator(".badge").inner_text() == "open"
    page.screenshot(path=str(SCREENSHOTS / f"alerts-open-{width}.png"), full_page=True)
    assert sideways(page) <= 0
    acknowledge = row.locator("button:has-text('Acknowledge')")
    acknowledge.scroll_into_view_if_needed()
    assert acknowledge.is_visible()
    acknowledge.click()
    page.wait_for_selector("text=Acknowledged: no more reminders of it.")
    assert "tabitha" in row.inner_text() and row.locator("button:has-text('Acknowledge')").count() == 0
    incident.refresh_from_db()
    assert incident.acknowledged_by_name == "tabitha"
    page.screenshot(path=str(SCREENSHOTS / f"alerts-acknowledged-{width}.png"), full_page=True)
    assert sideways(page) <= 0

    # Back on the preferences: the test and the alert are listed among their latest messages.
    page.goto(f"{served}/alerts/preferences/")
    assert page.locator("table >> text=Test alert").count() == 1
    assert page.locator("table >> text=ALERT Router offline").count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"alerts-preferences-{width}.png"), full_page=True)
    assert sideways(page) <= 0
    page.close()
