"""The demo's support desk (monitoring/tickets/demo.py): six tickets made through the ticket services,
each step dated back to when it happened, audited as the person who acted, once only."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit.models import Entry
from billing.models import Notification, Payment
from hotspot import services as customers
from monitoring.models import Ticket, TicketMessage
from monitoring.tickets import access
from monitoring.tickets.demo import DOWN_ROUTER, seed_tickets
from routers.models import Router

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def staff(admin, finance_clerk, support_agent, technician):
    return {ADMIN: admin, FINANCE: finance_clerk, SUPPORT: support_agent, TECHNICIAN: technician}


@pytest.fixture
def shop():
    people = [customers.create_customer(f"07120000{i:02d}", name=name)
              for i, name in enumerate(["Wanjiru Kamau", "Otieno Omondi", "Achieng Atieno"])]
    paid = Payment.objects.create(customer=people[2], phone=people[2].phone, amount=Decimal("50"),
                                  mpesa_receipt="QJK3XY12AB", method=Payment.Method.MPESA_STK,
                                  status=Payment.Status.COMPLETED)
    Payment.objects.filter(pk=paid.pk).update(created_at=NOW - timedelta(hours=6))
    return {"customers": people, "payment": paid, "router": Router.objects.create(name=DOWN_ROUTER, host="10.0.0.9")}


def test_the_desk_holds_open_answered_noted_overdue_and_resolved_tickets(staff, shop):
    assert seed_tickets(staff, now=NOW) == 6
    by_subject = {t.subject: t for t in Ticket.objects.all()}
    assert {t.status for t in by_subject.values()} == {"open", "pending", "resolved"}

    paid = by_subject["Paid but not credited"]
    assert paid.payment == shop["payment"] and paid.customer == shop["payment"].customer
    assert paid.status == Ticket.Status.PENDING and paid.first_response_at == NOW - timedelta(hours=4, minutes=30)
    assert paid.messages.filter(kind="note", author=staff[FINANCE]).exists()
    down = by_subject["Access point at the estate gate down"]
    assert (down.router, down.assignee, down.category) == (shop["router"], staff[TECHNICIAN], "router")
    assert down.messages.filter(kind="note", author=staff[TECHNICIAN]).exists()
    assert [t.subject for t in Ticket.objects.all() if t.is_overdue] == ["Very slow in the evening"]
    wrong = by_subject["Charged for the wrong package"]
    assert wrong.status == Ticket.Status.RESOLVED and wrong.resolved_at == NOW - timedelta(days=2)
    again = by_subject["No internet since morning"]
    assert again.status == Ticket.Status.OPEN and list(again.messages.values_list("kind", flat=True)) == [
        "customer", "reply", "customer"]  # answered, then the customer wrote back: open again
    walk_in = by_subject["Monthly package for a home"]
    assert walk_in.customer is None and walk_in.phone == "254790112233"

    # Each step at its own time, in order, and due by priority from when it was opened.
    for ticket in Ticket.objects.all():
        times = list(ticket.messages.values_list("created_at", flat=True))
        assert times == sorted(times) and times[0] == ticket.created_at and times[-1] <= ticket.updated_at
        assert ticket.created_at < NOW and ticket.due_at > ticket.created_at
    assert not TicketMessage.objects.filter(created_at__gt=NOW).exists()


def test_it_is_audited_as_who_acted_texted_and_seen_by_role(staff, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the SMS leave after commit
        seed_tickets(staff, now=NOW)
    tickets = Entry.objects.filter(object_type="monitoring.ticket")
    assert set(tickets.filter(action="noted").values_list("actor_name", flat=True)) == {"faith", "tabitha"}
    assert tickets.filter(action="customer_wrote", actor_kind="customer").count() == 1
    assert tickets.filter(action="opened").count() == 6 and tickets.filter(action="changed").count() == 1
    assert Notification.objects.filter(to="254790112233").exists()  # the walk-in's answer went by SMS
    assert access.visible_to(staff[FINANCE]).count() == 2  # the payment and billing ones
    assert access.visible_to(staff[TECHNICIAN]).count() == 1


def test_it_runs_once(staff, shop):
    seed_tickets(staff, now=NOW)
    assert seed_tickets(staff, now=NOW) == 0 and Ticket.objects.count() == 6
