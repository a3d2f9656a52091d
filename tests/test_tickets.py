"""Support tickets: a ticket's life through the API and the services, its numbers under concurrent
opening, its due time, who sees which (Finance the payment ones, Technicians the router ones and
their own), image attachments, and the audit trail of every change.

Personas: Samuel (Support) opens and answers, Tabitha (Technician) fixes routers, Faith (Finance)
explains payments, Amani (Admin); Wanjiku is the customer."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from audit.models import Entry
from billing.models import Notification
from billing.payments import record_cash
from hotspot.services import create_customer
from monitoring.models import Ticket, TicketAttachment, TicketMessage
from monitoring.tickets import access, sla
from monitoring.tickets.services import (
    MAX_ATTACHMENT_BYTES,
    attach,
    change,
    customer_message,
    note,
    open_ticket,
    reply,
)
from routers.models import Router
from siteconfig import store

from .payments_kit import closing
from .staff_kit import bearer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.fixture
def wanjiku(db):
    return create_customer("0712000111", "Wanjiku")


@pytest.fixture
def kilimani_router(db):
    return Router.objects.create(name="Kilimani AP", host="10.8.0.2")


def sms_to(phone: str) -> list[str]:
    return list(Notification.objects.filter(channel="sms", to=phone).order_by("created_at", "pk")
                .values_list("text", flat=True))


def test_a_tickets_whole_life_through_the_api(client, support_agent, wanjiku, django_capture_on_commit_callbacks):
    staff = bearer(support_agent)
    opened = client.post("/api/tickets", {"subject": "No internet since morning", "category": "no_internet",
                                          "priority": "high", "phone": "0712 000 111",
                                          "body": "The light is red."}, content_type="application/json", **staff)
    assert opened.status_code == 201, opened.content
    ticket = opened.json()
    number = ticket["number"]
    assert number == f"T-{timezone.localtime().year}-00001"
    # The walk-in phone is Wanjiku's: the ticket is hers, and her number is where SMS go.
    assert ticket["customer_id"] == wanjiku.pk and ticket["phone"] == "254712000111"
    assert ticket["status"] == "open" and ticket["first_response_at"] is None
    assert [(m["kind"], m["body"]) for m in ticket["messages"]] == [("customer", "The light is red.")]

    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(f"/api/tickets/{number}/messages", {"body": "Please restart the router."},
                               content_type="application/json", **staff)
        noted = client.post(f"/api/tickets/{number}/messages", {"body": "Kilimani AP rebooted twice today",
                                                                "internal": True},
                            content_type="application/json", **staff)
    assert answered.status_code == noted.status_code == 201
    assert sms_to("254712000111") == [f"{store.get('general.business_name')} ({number}): Please restart the router."]
    detail = client.get(f"/api/tickets/{number}", **staff).json()
    assert detail["status"] == "pending" and detail["first_response_at"] is not None
    assert [m["kind"] for m in detail["messages"]] == ["customer", "reply", "note"]

    # Resolved, reopened (the resolution time goes), closed: each texted, each a line in the thread.
    with django_capture_on_commit_callbacks(execute=True):
        for status in ("resolved", "open", "closed"):
            changed = client.patch(f"/api/tickets/{number}", {"status": status}, content_type="application/json",
                                   **staff)
            assert changed.status_code == 200, changed.content
            if status == "resolved":
                assert changed.json()["resolved_at"] is not None
            if status == "open":
                assert changed.json()["resolved_at"] is None and changed.json()["closed_at"] is None
    final = client.get(f"/api/tickets/{number}", **staff).json()
    assert final["status"] == "closed" and final["closed_at"] is not None
    events = [m["body"] for m in final["messages"] if m["kind"] == "event"]
    assert events == ["Status: Pending customer → Resolved", "Status: Resolved → Open", "Status: Open → Closed"]
    texts = sms_to("254712000111")
    assert len(texts) == 4 and "is now resolved" in texts[1] and "is now closed" in texts[3]
    # The internal note never reached the customer.
    assert not any("rebooted" in text for text in texts)
    # A closed ticket goes back only by reopening.
    refused = client.patch(f"/api/tickets/{number}", {"status": "resolved"}, content_type="application/json", **staff)
    assert refused.status_code == 422 and "reopen it first" in refused.json()["detail"]


def test_a_kiswahili_speaking_customer_is_answered_in_kiswahili(support_agent, wanjiku,
                                                                django_capture_on_commit_callbacks):
    wanjiku.language = "sw"
    wanjiku.save()
    ticket = open_ticket(support_agent, "Malipo", "payment", "normal", customer=wanjiku)
    with django_capture_on_commit_callbacks(execute=True):
        change(ticket, support_agent, status="resolved")
    assert sms_to(wanjiku.phone) == [f"{store.get('general.business_name')}: Tiketi yako {ticket.number} (Malipo) "
                                     "sasa imetatuliwa."]


def test_the_ticket_sms_are_the_templates_of_the_sms_settings(support_agent, wanjiku,
                                                               django_capture_on_commit_callbacks):
    store.save("sms", {"ticket_reply_en": "{business} support, ticket {number} ({subject}): {reply}",
                       "ticket_status_en": "Ticket {number} is {status}."})
    ticket = open_ticket(support_agent, "Slow evenings", "slow", "normal", customer=wanjiku)
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket, support_agent, "We moved you to the new AP.")
        change(ticket, support_agent, status="resolved")
    business = store.get("general.business_name")
    assert sms_to(wanjiku.phone) == [f"{business} support, ticket {ticket.number} (Slow evenings): We moved you to "
                                     "the new AP.", f"Ticket {ticket.number} is resolved."]


def test_a_reply_rolled_back_is_never_texted(support_agent, wanjiku, django_capture_on_commit_callbacks):
    from django.db import transaction

    ticket = open_ticket(support_agent, "Slow", "slow", "low", customer=wanjiku)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            reply(ticket, support_agent, "On it")
            raise RuntimeError("the attachment was refused")
    assert sms_to(wanjiku.phone) == [] and not TicketMessage.objects.filter(kind="reply").exists()


def test_the_customers_own_message_puts_the_ticket_back_in_the_queue(support_agent, wanjiku):
    ticket = open_ticket(support_agent, "Slow", "slow", "normal", customer=wanjiku)
    reply(ticket, support_agent, "Which area are you in?")
    customer_message(ticket, "Kilimani, near the market")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    change(ticket, support_agent, status="closed")
    customer_message(ticket, "Thanks!")
    ticket.refresh_from_db()
    assert ticket.status == "closed"  # a closed ticket stays closed until staff reopen it


@pytest.mark.django_db(transaction=True)
def test_eight_staff_opening_at_once_get_eight_different_numbers(support_agent, wanjiku):
    start, numbers, errors = threading.Barrier(8), [], []

    def open_one(n):
        start.wait()
        try:
            numbers.append(open_ticket(support_agent, f"Call {n}", "other", "normal", customer=wanjiku).number)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=closing(open_one), kwargs={"n": n}) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = timezone.localtime().year
    assert sorted(numbers) == [f"T-{year}-{n:05d}" for n in range(1, 9)]
    # A refused opening hands no number out; the next one follows on.
    with pytest.raises(ValidationError):
        open_ticket(support_agent, "", "other", "normal", customer=wanjiku)
    assert open_ticket(support_agent, "Call 9", "other", "normal", customer=wanjiku).number == f"T-{year}-00009"


def test_due_time_follows_the_priority_and_overdue_means_open_past_it(client, support_agent, wanjiku):
    store.save("tickets", {"urgent_hours": 2})
    urgent = open_ticket(support_agent, "Whole estate down", "no_internet", "urgent", customer=wanjiku)
    assert urgent.due_at == urgent.created_at + timedelta(hours=2)
    low = open_ticket(support_agent, "Change my name", "other", "low", customer=wanjiku)
    assert low.due_at == low.created_at + timedelta(hours=72)
    change(low, support_agent, priority="high")  # a new priority moves the due time
    low.refresh_from_db()
    assert low.due_at == low.created_at + timedelta(hours=8)

    Ticket.objects.filter(pk=urgent.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    staff = bearer(support_agent)
    assert [t["number"] for t in client.get("/api/tickets?overdue=true", **staff).json()["results"]] == [urgent.number]
    reply(urgent, support_agent, "A technician is on the way")  # now pending the customer: not overdue
    assert client.get("/api/tickets?overdue=true", **staff).json()["count"] == 0
    assert not Ticket.objects.filter(sla.overdue()).exists()


def test_finance_sees_payment_tickets_and_technicians_router_ones_and_their_own(
        client, support_agent, finance_clerk, technician, admin, wanjiku, kilimani_router, daily):
    payment = record_cash(customer=wanjiku, amount=Decimal("50.00"), by=admin, package=daily)
    paid = open_ticket(support_agent, "Paid, no bundle", "payment", "high", customer=wanjiku, payment=payment)
    router = open_ticket(support_agent, "AP blinking", "router", "normal", router=kilimani_router,
                         phone="0712000222")
    note(router, support_agent, "Power supply suspected")
    slow = open_ticket(support_agent, "Slow evenings", "slow", "normal", customer=wanjiku)
    handed = open_ticket(support_agent, "Cable cut", "no_internet", "normal", customer=wanjiku, assignee=technician)

    def numbers(user):
        return {t["number"] for t in client.get("/api/tickets", **bearer(user)).json()["results"]}

    assert numbers(support_agent) == numbers(admin) == {paid.number, router.number, slow.number, handed.number}
    assert numbers(finance_clerk) == {paid.number}
    assert numbers(technician) == {router.number, handed.number}
    # Finance cannot read the router ticket, nor so its note: it does not exist for them.
    assert client.get(f"/api/tickets/{router.number}", **bearer(finance_clerk)).status_code == 404
    assert client.post(f"/api/tickets/{router.number}/messages", {"body": "x", "internal": True},
                       content_type="application/json", **bearer(finance_clerk)).status_code == 404
    # Finance explains a payment to the desk (a note) but does not answer the customer.
    as_finance = bearer(finance_clerk)
    assert client.post(f"/api/tickets/{paid.number}/messages", {"body": "Receipt reversed by M-Pesa",
                                                                "internal": True},
                       content_type="application/json", **as_finance).status_code == 201
    refused = client.post(f"/api/tickets/{paid.number}/messages", {"body": "Sorry"},
                          content_type="application/json", **as_finance)
    assert refused.status_code == 403
    assert client.patch(f"/api/tickets/{paid.number}", {"status": "resolved"}, content_type="application/json",
                        **as_finance).status_code == 403
    # The technician works the router ticket and the one handed to them, not the others.
    as_tech = bearer(technician)
    assert client.patch(f"/api/tickets/{router.number}", {"status": "resolved"}, content_type="application/json",
                        **as_tech).status_code == 200
    assert client.get(f"/api/tickets/{slow.number}", **as_tech).status_code == 404
    assert [t["number"] for t in client.get("/api/tickets?mine=true", **as_tech).json()["results"]] == [handed.number]
    with pytest.raises(PermissionDenied):
        reply(slow, technician, "Not mine")
    assert access.can_change(technician, handed) and not access.can_change(finance_clerk, paid)
    assert access.can_note(finance_clerk, paid) and not access.can_note(finance_clerk, router)


def test_the_queue_filters_and_search(client, support_agent, technician, wanjiku):
    a = open_ticket(support_agent, "Router lights off", "router", "urgent", phone="0722000333")
    b = open_ticket(support_agent, "Double charged", "billing", "low", customer=wanjiku, assignee=technician)
    staff = bearer(support_agent)

    def found(query):
        answer = client.get(f"/api/tickets?{query}", **staff)
        assert answer.status_code == 200, (query, answer.content)
        return [t["number"] for t in answer.json()["results"]]

    assert found("category=router") == [a.number]
    assert found("priority=low") == [b.number]
    assert found(f"assignee={technician.pk}") == [b.number]
    assert found("unassigned=true") == [a.number]
    assert found("q=0722 000 333") == [a.number]
    assert found("q=0712000111") == [b.number]  # the customer's phone
    assert found(f"q={b.number.lower()}") == [b.number]
    assert found("q=charged") == [b.number]
    assert found("status=closed") == []


def test_bad_input_is_a_clear_4xx_never_a_500(client, support_agent, wanjiku):
    staff = bearer(support_agent)
    ticket = open_ticket(support_agent, "Slow", "slow", "normal", customer=wanjiku)

    def post(url, body):
        return client.post(url, body, content_type="application/json", **staff)

    assert post("/api/tickets", {"subject": "x", "category": "weather"}).status_code == 422
    assert post("/api/tickets", {"subject": "x"}).json()["detail"].startswith("Name the customer")
    assert post("/api/tickets", {"subject": "x", "customer_id": 2**63}).status_code == 422
    assert post("/api/tickets", {"subject": "x", "customer_id": 999999}).json()["detail"] == \
        "customer_id: no customer 999999"
    assert post("/api/tickets", {"subject": "x", "phone": "12"}).status_code == 422
    assert post("/api/tickets", {"subject": "a\x00b", "phone": "0712000111"}).status_code == 422
    assert post(f"/api/tickets/{ticket.number}/messages", {"body": " "}).status_code == 422
    assert post(f"/api/tickets/{ticket.number}/messages", {"body": "x" * 5001}).status_code == 422
    assert client.get(f"/api/tickets/{'9' * 40}", **staff).status_code == 404
    assert client.get("/api/tickets?assignee=99999999999999999999", **staff).status_code == 422
    assert client.patch(f"/api/tickets/{ticket.number}", {"assignee_id": 999999}, content_type="application/json",
                        **staff).status_code == 422
    # Only staff who may work tickets are assigned them.
    faith_id = User.objects.create(username="no-role").pk
    assert client.patch(f"/api/tickets/{ticket.number}", {"assignee_id": faith_id}, content_type="application/json",
                        **staff).status_code == 422


def test_an_image_is_attached_anything_else_or_too_big_is_refused_and_nothing_stored(support_agent, wanjiku):
    ticket = open_ticket(support_agent, "Screenshot of the error", "other", "normal", customer=wanjiku)
    message = note(ticket, support_agent, "The customer's screenshot")
    stored = attach(message, SimpleUploadedFile("error.png", PNG, content_type="image/png"))
    assert (stored.content_type, stored.size, bytes(stored.data)) == ("image/png", len(PNG), PNG)
    # By its bytes, not by what the upload claims.
    assert attach(message, SimpleUploadedFile("x.bin", WEBP, content_type="text/plain")).content_type == "image/webp"
    with pytest.raises(ValidationError, match="Only images"):
        attach(message, SimpleUploadedFile("invoice.png", b"%PDF-1.7 ...", content_type="image/png"))
    with pytest.raises(ValidationError, match="at most 5 MB"):
        attach(message, SimpleUploadedFile("huge.png", PNG + b"\x00" * MAX_ATTACHMENT_BYTES,
                                           content_type="image/png"))
    assert TicketAttachment.objects.count() == 2


def test_every_change_is_in_the_audit_trail_with_its_actor(support_agent, technician, wanjiku):
    ticket = open_ticket(support_agent, "No internet", "no_internet", "normal", customer=wanjiku)
    reply(ticket, support_agent, "Restart please")
    message = note(ticket, support_agent, "secret words of the note")
    attach(message, SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20))
    change(ticket, support_agent, assignee=technician, priority="urgent")
    customer_message(ticket, "Still down")
    entries = list(Entry.objects.filter(object_type="monitoring.ticket", object_id=str(ticket.pk)).order_by("pk"))
    assert [e.action for e in entries] == ["opened", "replied", "noted", "attached", "changed", "customer_wrote"]
    assert entries[4].changes["assignee"] == [None, "tabitha"]
    assert entries[4].changes["priority"] == ["normal", "urgent"]
    assert entries[1].changes["status"] == ["open", "pending"]
    # The note's words stay in the thread (staff only), not in the trail other roles may read.
    assert not any("secret words" in (e.note + str(e.changes)) for e in entries)
    # The actor: a service called outside a request is the system; through the API, the staff member.
    assert {e.actor_kind for e in entries} == {"system"}


def test_through_the_api_the_staff_member_is_the_actor(client, support_agent, wanjiku):
    number = client.post("/api/tickets", {"subject": "Slow", "customer_id": wanjiku.pk},
                         content_type="application/json", **bearer(support_agent)).json()["number"]
    entry = Entry.objects.get(action="opened", object_label__startswith=number)
    assert (entry.actor_kind, entry.actor_name) == ("staff", "samuel")
