"""The staff ticket pages (monitoring/views/tickets.py): a ticket's life through the pages, the queue's
filters, who sees and who changes which ticket, attachments refused with a form error (nothing
stored), the customer's panel, and the pages' query counts pinned."""
import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment
from hotspot import services as customers
from hotspot.models import Customer
from monitoring.models import Ticket, TicketAttachment, TicketMessage
from monitoring.tickets import services as tickets
from routers.models import Router

pytestmark = pytest.mark.django_db

# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
                       "AAAABJRU5ErkJggg==")


def _customer(phone="0712345678", name="Wanjiru Kamau") -> Customer:
    return customers.create_customer(phone, name=name)


def _open(by, subject="No internet since morning", category=Ticket.Category.NO_INTERNET, **fields) -> Ticket:
    if "customer" not in fields:
        fields.setdefault("phone", "0799 000 001")  # a walk-in
    return tickets.open_ticket(by, subject=subject, category=category,
                               priority=fields.pop("priority", Ticket.Priority.NORMAL), **fields)


def _url(name, ticket, **kwargs):
    return reverse(name, kwargs={"number": ticket.number, **kwargs})


def test_a_ticket_from_the_phone_call_to_resolved_through_the_pages(signed_in, support_agent):
    wanjiru = _customer()
    Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=Decimal("50"), mpesa_receipt="QJK3XY12AB",
                           method=Payment.Method.MPESA_STK, status=Payment.Status.FAILED,
                           result_desc="Request cancelled by user")
    agent = signed_in("support")

    opened = agent.post(reverse("ticket-new"), {
        "who": "0712 345 678", "subject": "Paid but no internet", "category": "payment", "priority": "high",
        "body": "She paid 50 bob at 9:00", "payment": "qjk3xy12ab", "assignee": support_agent.pk})
    ticket = Ticket.objects.get()
    assert opened.status_code == 302 and opened.url == _url("ticket-detail", ticket)
    assert (ticket.customer, ticket.category, ticket.priority, ticket.assignee) == (
        wanjiru, "payment", "high", support_agent)
    assert ticket.payment.mpesa_receipt == "QJK3XY12AB"

    page = agent.get(opened.url).content.decode()
    assert "She paid 50 bob at 9:00" in page
    assert "QJK3XY12AB" in page and "Request cancelled by user" in page  # the customer's panel
    assert "No subscription gives access now" in page

    assert agent.post(_url("ticket-reply", ticket), {"reply-body": "We are checking with M-Pesa"}).status_code == 302
    noted = agent.post(_url("ticket-note", ticket), {"note-body": "Safaricom delayed callbacks today"})
    assert noted.status_code == 302
    changed = agent.post(_url("ticket-change", ticket), {
        "status": "resolved", "priority": "high", "assignee": support_agent.pk, "payment": "QJK3XY12AB"})
    assert changed.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED and ticket.resolved_at and ticket.first_response_at

    page = agent.get(opened.url).content.decode()
    assert "We are checking with M-Pesa" in page
    note = page.index("Safaricom delayed callbacks today")
    assert "internal" in page[page.rindex('<li class="msg note"', 0, note):note]
    assert ticket.messages.filter(kind=TicketMessage.Kind.EVENT).exists()  # the status change is in the thread


def test_the_customers_panel_shows_the_running_package_and_the_last_five_sessions(signed_in, support_agent, daily):
    from hotspot import subscriptions
    from radius.models import RadAcct

    wanjiru = _customer()
    subscriptions.activate(wanjiru, daily, "payment")
    start = timezone.now() - timedelta(hours=8)
    for n in range(6):  # the oldest of six is left out
        RadAcct.objects.create(acct_session_id=f"s-{n}", acct_unique_id=f"u-{n}", username=wanjiru.username,
                               nas_ip_address="127.0.0.1", acct_start_time=start + timedelta(hours=n),
                               acct_stop_time=None if n == 5 else start + timedelta(hours=n, minutes=30),
                               acct_session_time=None if n == 5 else 1800, acct_output_octets=(n + 1) * 2**20)
    ticket = _open(support_agent, subject="Slow tonight", category="slow", customer=wanjiru)
    page = signed_in("support").get(_url("ticket-detail", ticket)).content.decode()
    panel = page[page.index("<h2>Customer</h2>"):page.index("<h3>Last payments</h3>")]
    assert "On <strong>Daily 1GB</strong>" in panel and "No subscription gives access now" not in panel
    sessions = panel[panel.index("<h3>Last sessions</h3>"):]
    assert sessions.count("<tr><td class=\"when\">") == 5 and sessions.count(">online</span>") == 1
    assert "6.0\xa0MB" in sessions and "1.0\xa0MB" not in sessions  # newest first, the oldest left out


def test_a_router_and_a_payment_are_linked_to_a_ticket_on_its_page_and_through_the_api(signed_in, support_agent,
                                                                                      client):
    from .staff_kit import bearer

    wanjiru = _customer()
    kilimani = Router.objects.create(name="Kilimani AP", host="10.0.0.1")
    roysambu = Router.objects.create(name="Roysambu AP", host="10.0.0.2")
    paid = Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=50, mpesa_receipt="QJK3XY12AC",
                                  status=Payment.Status.COMPLETED)
    ticket = _open(support_agent, subject="AP down", category="router", customer=wanjiru)
    agent = signed_in("support")
    assert agent.post(_url("ticket-change", ticket), {"status": "open", "priority": "normal", "router": kilimani.pk,
                                                      "payment": "QJK3XY12AC"}).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.router, ticket.payment) == (kilimani, paid)
    assert "Kilimani AP" in agent.get(_url("ticket-detail", ticket)).content.decode()
    staff = bearer(support_agent)
    moved = client.patch(f"/api/tickets/{ticket.number}", {"router_id": roysambu.pk, "payment_id": None},
                         content_type="application/json", **staff)
    assert moved.status_code == 200 and (moved.json()["router_id"], moved.json()["payment_id"]) == (roysambu.pk, None)
    assert client.patch(f"/api/tickets/{ticket.number}", {"router_id": 999999}, content_type="application/json",
                        **staff).status_code == 422
    ticket.refresh_from_db()
    assert (ticket.router, ticket.payment) == (roysambu, None)


def test_a_walk_in_is_kept_by_phone_and_an_unknown_username_is_a_form_error(signed_in):
    agent = signed_in("support")
    agent.post(reverse("ticket-new"), {"who": "+254 722 000 111", "subject": "Which package?", "category": "other",
                                       "priority": "low"})
    walk_in = Ticket.objects.get()
    assert walk_in.customer is None and walk_in.phone == "254722000111"

    refused = agent.post(reverse("ticket-new"), {"who": "nobody-here", "subject": "x", "category": "other",
                                                 "priority": "low"})
    assert refused.status_code == 200 and "walk-in needs a phone number" in refused.content.decode()
    assert refused.content.decode().count("errorlist") >= 1
    unknown = agent.post(reverse("ticket-new"), {"who": "0700", "subject": "x", "category": "other",
                                                 "priority": "low", "payment": "NOSUCHCODE"})
    assert "No payment has this M-Pesa receipt" in unknown.content.decode()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(("upload", "error"), [
    (lambda: SimpleUploadedFile("notes.txt", b"just text, not a picture", content_type="image/png"), "image"),
    (lambda: SimpleUploadedFile("huge.png", PNG + b"\0" * (6 * 1024 * 1024), content_type="image/png"), "at most 5 mb"),
], ids=["not-an-image", "oversize"])
def test_a_refused_attachment_is_a_form_error_and_nothing_is_stored(signed_in, support_agent, upload, error):
    ticket = _open(support_agent)
    before = ticket.messages.count()
    refused = signed_in("support").post(_url("ticket-reply", ticket), {"reply-body": "See the picture",
                                                                       "reply-image": upload()})
    assert refused.status_code == 400
    assert error in refused.content.decode().lower()
    assert ticket.messages.count() == before and not TicketAttachment.objects.exists()


def test_an_image_is_attached_and_served_to_who_sees_the_ticket(signed_in, support_agent):
    ticket = _open(support_agent)
    agent = signed_in("support")
    agent.post(_url("ticket-note", ticket), {"note-body": "Router LEDs", "note-image": SimpleUploadedFile(
        "leds.png", PNG, content_type="image/png")})
    attachment = TicketAttachment.objects.get()
    assert "leds.png" in agent.get(_url("ticket-detail", ticket)).content.decode()
    served = agent.get(_url("ticket-attachment", ticket, pk=attachment.pk))
    assert served.status_code == 200 and served["Content-Type"] == "image/png" and served.content == PNG
    assert served["X-Content-Type-Options"] == "nosniff"
    other = _open(support_agent, subject="Another")
    assert agent.get(_url("ticket-attachment", other, pk=attachment.pk)).status_code == 404


def test_the_queue_filters_and_searches(signed_in, support_agent, admin):
    wanjiru = _customer()
    mine = _open(support_agent, subject="Slow in the evening", category="slow", priority="urgent",
                 customer=wanjiru, assignee=support_agent)
    theirs = _open(support_agent, subject="Router blinking", category="router", assignee=admin)
    walk_in = _open(support_agent, subject="Voucher question", category="other", phone="254733111222")
    done = _open(support_agent, subject="Old and resolved", category="other")
    tickets.change(done, support_agent, status=Ticket.Status.RESOLVED)
    late = _open(support_agent, subject="Waiting too long", category="billing")
    Ticket.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    agent = signed_in("support")

    def listed(**query):
        page = agent.get(reverse("ticket-list"), query).content.decode()
        return {t.number for t in Ticket.objects.all() if f">{t.number}<" in page}

    everything_open = {mine.number, theirs.number, walk_in.number, late.number}
    assert listed() == everything_open
    assert listed(status="all") == everything_open | {done.number}
    assert listed(status="resolved") == {done.number}
    assert listed(mine="on") == {mine.number}
    assert listed(assignee=admin.pk) == {theirs.number}
    assert listed(category="router") == {theirs.number}
    assert listed(priority="urgent") == {mine.number}
    assert listed(overdue="on") == {late.number}
    assert listed(q=mine.number) == {mine.number}
    assert listed(q="0712 345 678") == {mine.number}  # the customer's phone, as typed
    assert listed(q="0733111222") == {walk_in.number}  # a walk-in's
    assert listed(q="blinking") == {theirs.number}
    # Nonsense in the filters is reported beside the field, never a 500.
    for query in ({"assignee": "9" * 40}, {"assignee": "x"}, {"status": "nope"}, {"page": "9" * 40}):
        assert agent.get(reverse("ticket-list"), query).status_code == 200
    assert agent.get(reverse("ticket-list"), {"q": "a\0b"}).status_code == 400


def test_who_sees_and_who_changes_which_ticket(signed_in, support_agent, technician, finance_clerk):
    router_ticket = _open(support_agent, subject="AP down at Block A", category="router")
    payment_ticket = _open(support_agent, subject="Not credited", category="payment")
    slow = _open(support_agent, subject="Slow", category="slow")
    for role, visible, hidden in (("technician", router_ticket, payment_ticket),
                                  ("finance", payment_ticket, router_ticket)):
        client = signed_in(role)
        queue = client.get(reverse("ticket-list")).content.decode()
        assert visible.number in queue and hidden.number not in queue and slow.number not in queue
        assert client.get(_url("ticket-detail", visible)).status_code == 200
        assert client.get(_url("ticket-detail", hidden)).status_code == 404
        assert client.post(_url("ticket-note", hidden), {"note-body": "x"}).status_code == 404
    # A technician sees what is assigned to them, whatever its category.
    tickets.change(slow, support_agent, assignee=technician)
    assert signed_in("technician").get(_url("ticket-detail", slow)).status_code == 200


def test_a_read_only_role_adds_notes_but_cannot_reply_or_change(signed_in, support_agent):
    """Finance reads payment tickets and explains a payment to the desk in a note; replying to the
    customer and changing the ticket are refused (403), and nothing changes."""
    ticket = _open(support_agent, category="payment")
    finance = signed_in("finance")
    page = finance.get(_url("ticket-detail", ticket)).content.decode()
    assert "Add note" in page and "Send reply" not in page and "Save changes" not in page
    assert finance.post(_url("ticket-note", ticket), {"note-body": "Callback came late"}).status_code == 302
    for name, data in (("ticket-reply", {"reply-body": "x"}),
                       ("ticket-change", {"status": "closed", "priority": "low"})):
        assert finance.post(_url(name, ticket), data).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and not ticket.messages.filter(kind="reply").exists()
    assert ticket.messages.filter(kind="note", body="Callback came late").exists()


def test_a_missing_ticket_is_a_404_whatever_its_number(signed_in):
    agent = signed_in("support")
    for number in ("T-2026-99999", "x" * 300, "9" * 40):
        assert agent.get(reverse("ticket-detail", args=[number])).status_code == 404


@pytest.mark.parametrize("n", [2, 40])
def test_the_queue_costs_the_same_queries_for_2_or_40_tickets(n, signed_in, support_agent, admin,
                                                              django_assert_num_queries):
    for i in range(n):
        _open(support_agent, subject=f"Ticket {i}", customer=_customer(f"07120000{i:02d}", name=f"C {i}"),
              assignee=admin)
    agent = signed_in("support")
    with django_assert_num_queries(QUEUE_QUERIES):
        assert agent.get(reverse("ticket-list")).status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_a_ticket_page_costs_the_same_queries_for_2_or_20_messages(n, signed_in, support_agent,
                                                                   django_assert_num_queries):
    wanjiru = _customer()
    ticket = _open(support_agent, customer=wanjiru, router=Router.objects.create(name="Kilimani", host="10.0.0.1"))
    for i in range(n):
        message = tickets.note(ticket, support_agent, f"Note {i}")
        tickets.attach(message, SimpleUploadedFile(f"p{i}.png", PNG, content_type="image/png"))
    Payment.objects.create(customer=wanjiru, phone=wanjiru.phone, amount=50, status=Payment.Status.COMPLETED)
    agent = signed_in("support")
    with django_assert_num_queries(DETAIL_QUERIES):
        assert agent.get(_url("ticket-detail", ticket)).status_code == 200


QUEUE_QUERIES = 11
DETAIL_QUERIES = 16


def test_nonsense_in_the_forms_is_a_form_error_never_a_500(signed_in, support_agent):
    ticket = _open(support_agent)
    agent = signed_in("support")
    huge = "9" * 40
    for data in ({"status": "open", "priority": "normal", "assignee": huge, "router": huge, "payment": huge},
                 {"status": "nope", "priority": "²"}):
        assert agent.post(_url("ticket-change", ticket), data).status_code == 400
    new = agent.post(reverse("ticket-new"), {"who": huge, "subject": "s", "category": "x", "priority": "y",
                                             "assignee": huge, "router": huge})
    assert new.status_code == 200 and "errorlist" in new.content.decode()
    assert agent.get(_url("ticket-attachment", ticket, pk=int(huge))).status_code == 404
    assert agent.post(_url("ticket-reply", ticket), {"reply-body": "x\0y"}).status_code == 400
    # A move the services refuse (a closed ticket goes back only by reopening) is a form error too.
    tickets.change(ticket, support_agent, status=Ticket.Status.CLOSED)
    refused = agent.post(_url("ticket-change", ticket), {"status": "resolved", "priority": "normal"})
    assert refused.status_code == 400 and "reopen it first" in refused.content.decode()
    assert Ticket.objects.count() == 1
