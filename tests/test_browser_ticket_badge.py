"""In a real browser: the number of open tickets beside Tickets in the sidebar changes while the page
stays open, when a ticket is opened and when one is resolved ("ticket.changed" over the websocket)."""
import pytest

from accounts.roles import SUPPORT
from monitoring.models import Ticket
from monitoring.tickets import services as tickets

from .browser import SCREENSHOTS, elsewhere
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open(by, subject: str) -> Ticket:
    return tickets.open_ticket(by, subject=subject, category=Ticket.Category.NO_INTERNET,
                               priority=Ticket.Priority.NORMAL, phone="0799 000 001")


def _shows(page, number: str) -> None:
    page.wait_for_function(
        "n => { const b = document.getElementById('open-tickets'); "
        "return b && !b.hidden && b.textContent.trim() === n; }", arg=number, timeout=10_000)


def test_the_open_tickets_number_follows_tickets_opened_and_resolved_live(served, chromium):
    sam = make_staff("sam", SUPPORT, first_name="Sam")
    first = _open(sam, "No internet in Kasarani")
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")
    page.goto(f"{served}/tickets/{first.number}/")  # the Support group is open on a ticket's page
    _shows(page, "1")
    page.wait_for_selector('[data-live-indicator][data-state="connected"]', timeout=10_000)

    elsewhere(_open, sam, "Router down at Block B")  # commits, then publishes "ticket.changed"
    _shows(page, "2")
    elsewhere(tickets.change, first, sam, status=Ticket.Status.RESOLVED)
    _shows(page, "1")
    page.screenshot(path=SCREENSHOTS / "tickets-badge-live.png")
    page.close()
