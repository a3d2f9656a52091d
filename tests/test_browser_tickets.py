"""A support ticket in Chromium: a Support agent opens a ticket for a calling customer (found by phone),
answers, leaves an internal note and resolves it, at desktop and phone width (390 px, where the
queue's minor columns hide). Screenshots go to var/screenshots/tickets-*.png."""
from decimal import Decimal

import pytest

from billing.models import Payment
from hotspot import services
from monitoring.models import Ticket, TicketMessage

from .browser import SCREENSHOTS
from .staff_kit import PASSWORD, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    """Nothing sticks out sideways: every table fits or scrolls inside its own box."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_a_support_agent_opens_answers_and_resolves_a_ticket(served, chromium):
    make_staff("sam", "Support", first_name="Sam")
    customer = services.create_customer("0712 345 678", name="Wanjiru Kamau")
    Payment.objects.create(customer=customer, phone=customer.phone, amount=Decimal("50"), mpesa_receipt="QJK3XY12AB",
                           method=Payment.Method.MPESA_STK, status=Payment.Status.FAILED,
                           result_desc="Request cancelled by user")
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{served}/login/")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served}/")

    page.goto(f"{served}/tickets/")
    page.click("text=New ticket")
    page.fill("input[name=who]", "0712345678")
    page.fill("input[name=subject]", "Paid 50 bob, still no internet")
    page.select_option("select[name=category]", "payment")
    page.select_option("select[name=priority]", "high")
    page.fill("textarea[name=body]", "She paid at 9:00 and the prompt said cancelled")
    page.click("button[type=submit] >> text=Open ticket")
    ticket = Ticket.objects.get()
    page.wait_for_url(f"{served}/tickets/{ticket.number}/")
    assert ticket.customer == customer
    assert page.locator("text=Request cancelled by user").is_visible()  # the customer's panel
    page.screenshot(path=SCREENSHOTS / "tickets-1280-1-opened.png", full_page=True)

    page.fill("textarea[name=reply-body]", "The prompt was cancelled on your phone; we sent a new one.")
    page.click("button[type=submit] >> text=Send reply")
    page.wait_for_selector("text=Reply sent.")
    page.fill("textarea[name=note-body]", "Customer confirmed the cancel by mistake")
    page.click("button[type=submit] >> text=Add note")
    page.wait_for_selector("text=Internal note added.")
    assert page.locator(".msg.note .badge", has_text="internal").is_visible()

    page.select_option("select[name=status]", "resolved")
    page.click("button[type=submit] >> text=Save changes")
    page.wait_for_selector("text=Ticket changed.")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert list(ticket.messages.values_list("kind", flat=True)) == [
        TicketMessage.Kind.CUSTOMER, TicketMessage.Kind.REPLY, TicketMessage.Kind.NOTE, TicketMessage.Kind.EVENT]
    assert _fits(page)
    page.screenshot(path=SCREENSHOTS / "tickets-1280-2-resolved.png", full_page=True)
    page.goto(f"{served}/tickets/?status=all")
    assert page.locator(f"text={ticket.number}").is_visible() and page.locator("td.opt").first.is_visible()
    page.screenshot(path=SCREENSHOTS / "tickets-1280-3-queue.png", full_page=True)

    # On a phone (one server for both widths: the pages are the same, only their layout differs).
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert not page.locator("td.opt").first.is_visible()  # the minor columns hide
    assert page.locator(".badge", has_text="Resolved").first.is_visible() and _fits(page)
    page.screenshot(path=SCREENSHOTS / "tickets-390-3-queue.png", full_page=True)
    page.goto(f"{served}/tickets/{ticket.number}/")
    assert page.locator(".msg.note .badge", has_text="internal").is_visible() and _fits(page)
    page.screenshot(path=SCREENSHOTS / "tickets-390-2-resolved.png", full_page=True)
    page.close()
