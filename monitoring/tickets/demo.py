"""The demo's support desk (manage.py seed_demo): six tickets as a day at the desk leaves them, each made
through monitoring.tickets.services (numbered, due, threaded, texted and audited as the staff member
or customer who acted), then each step moved back to when it happened, as billing.demo dates back
the payments.

- No internet: the customer called, Support answered, the customer wrote back (open again).
- Paid but not credited, linked to the payment: Finance explains it in a note, Support answers.
- Ruaka Estate's access point down, linked to the router the demo keeps offline: the Technician's.
- Slow in the evening, waiting since this morning: past its due time (overdue).
- Charged for the wrong package: answered and resolved yesterday.
- A walk-in asking about a home package, answered by SMS.
"""
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE, SUPPORT, TECHNICIAN
from audit.actors import Actor, acting_as
from billing.models import Payment
from hotspot.models import Customer, ServiceType
from routers.demo import DEMO_ROUTERS
from routers.models import Router

from ..models import Ticket, TicketMessage
from . import services, sla

DOWN_ROUTER = next(name for name, _, status in DEMO_ROUTERS if status == "offline")  # Ruaka Estate
WALK_IN = "0790 112 233"  # not a customer's
Category, Priority, Status = Ticket.Category, Ticket.Priority, Ticket.Status


class _Desk:
    """Runs a ticket's steps through the services, then moves what each step wrote to ``ago`` before
    ``now``: the messages, and the ticket's times that step set."""

    MOMENTS = ("first_response_at", "resolved_at", "closed_at")

    def __init__(self, now: datetime):
        self.now = now

    def open(self, ago: timedelta, by, **fields) -> Ticket:
        return self._step(None, ago, Actor.staff(by), lambda: services.open_ticket(by, **fields))

    def reply(self, ticket: Ticket, ago: timedelta, by, body: str) -> None:
        self._step(ticket, ago, Actor.staff(by), lambda: services.reply(ticket, by, body))

    def note(self, ticket: Ticket, ago: timedelta, by, body: str) -> None:
        self._step(ticket, ago, Actor.staff(by), lambda: services.note(ticket, by, body))

    def customer_wrote(self, ticket: Ticket, ago: timedelta, body: str) -> None:
        self._step(ticket, ago, Actor.customer(ticket.customer), lambda: services.customer_message(ticket, body))

    def change(self, ticket: Ticket, ago: timedelta, by, **changes) -> None:
        self._step(ticket, ago, Actor.staff(by), lambda: services.change(ticket, by, **changes))

    def _step(self, ticket: Ticket | None, ago: timedelta, actor: Actor, work) -> Ticket:
        when, started = self.now - ago, timezone.now()
        with acting_as(actor):
            made = work()
        ticket = ticket or made
        ticket.refresh_from_db()
        TicketMessage.objects.filter(ticket=ticket, created_at__gte=started).update(created_at=when)
        moved = {"updated_at": when}
        if ticket.created_at >= started:  # this step opened it: due by its priority from then
            moved.update(created_at=when, due_at=sla.due_at(when, ticket.priority))
        moved.update({name: when for name in self.MOMENTS
                      if getattr(ticket, name) is not None and getattr(ticket, name) >= started})
        Ticket.objects.filter(pk=ticket.pk).update(**moved)
        ticket.refresh_from_db()
        return ticket


def seed_tickets(staff: dict, now: datetime | None = None) -> int:
    """Once: nothing happens when any ticket exists. ``staff``: the demo's user per role. Returns how
    many tickets were opened."""
    if Ticket.objects.exists():
        return 0
    customers = list(Customer.objects.filter(phone__isnull=False, service_type=ServiceType.HOTSPOT).order_by("pk")[:3])
    now = now or timezone.now()
    # The caller's payment: the last one before they called, five hours ago.
    payment = Payment.objects.filter(status=Payment.Status.COMPLETED, method=Payment.Method.MPESA_STK,
                                     customer__isnull=False, created_at__lte=now - timedelta(hours=5)).exclude(
        mpesa_receipt="").order_by("-created_at").first()
    router = Router.objects.filter(name=DOWN_ROUTER).first()
    if len(customers) < 3 or payment is None or router is None:
        return 0
    desk = _Desk(now)
    support, finance, tech = staff[SUPPORT], staff[FINANCE], staff[TECHNICIAN]
    hour, minute = timedelta(hours=1), timedelta(minutes=1)
    with transaction.atomic():
        no_internet = desk.open(
            2 * hour, support, subject="No internet since morning", category=Category.NO_INTERNET,
            priority=Priority.NORMAL, customer=customers[0], assignee=support,
            body="Connected to the WiFi but pages do not open. Bought the daily package yesterday.")
        desk.reply(no_internet, 100 * minute, support, "Please forget the WiFi network on your phone and "
                   "connect again; your package runs until tomorrow.")
        desk.customer_wrote(no_internet, 70 * minute, "Did that, still nothing. The login page does not come.")

        paid = desk.open(
            5 * hour, support, subject="Paid but not credited", category=Category.PAYMENT, priority=Priority.HIGH,
            customer=payment.customer, payment=payment, assignee=support,
            body=f"Paid KES {payment.amount:.0f}, M-Pesa receipt {payment.mpesa_receipt}, but no bundle came.")
        desk.note(paid, 4 * hour + 40 * minute, finance, "Safaricom's callback came 6 minutes late; the payment "
                  f"is credited ({payment.mpesa_receipt}) and the subscription runs.")
        desk.reply(paid, 4 * hour + 30 * minute, support, "Your payment is in and your package is active. "
                   "Please reconnect to the WiFi. Sorry for the wait.")

        down = desk.open(
            5 * hour, support, subject="Access point at the estate gate down", category=Category.ROUTER,
            priority=Priority.HIGH, customer=customers[1], router=router, assignee=tech,
            body="Nobody at the estate can connect since the afternoon.")
        desk.note(down, 4 * hour, tech, f"{router.name} is unreachable; the caretaker says the power is off at "
                  "the gate. Going there with the spare UPS.")

        desk.open(11 * hour, support, subject="Very slow in the evening", category=Category.SLOW,
                  priority=Priority.HIGH, customer=customers[2],
                  body="Videos keep buffering every evening after 7 pm.")

        wrong = desk.open(
            3 * 24 * hour, support, subject="Charged for the wrong package", category=Category.BILLING,
            priority=Priority.NORMAL, customer=customers[1], assignee=support,
            body="Chose the weekly package, the prompt asked for the monthly price.")
        desk.reply(wrong, 3 * 24 * hour - 40 * minute, support, "The monthly package was selected on your phone. "
                   "We have moved you to the weekly one and added the difference as extra days.")
        desk.change(wrong, 2 * 24 * hour, support, status=Status.RESOLVED)

        walk_in = desk.open(
            26 * hour, staff[ADMIN], subject="Monthly package for a home", category=Category.OTHER,
            priority=Priority.LOW, phone=WALK_IN, body="Called to ask about a monthly package for a family of four.")
        desk.reply(walk_in, 25 * hour, support, "Our monthly home package gives unlimited data at 10 Mbps. "
                   "Reply here to book the installation.")
    return Ticket.objects.count()
