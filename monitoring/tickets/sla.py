"""When a ticket is due: its creation plus the hours the Tickets settings give its priority; a
ticket is overdue while it is open (waiting for staff) past that time. A ticket pending the customer
is waiting on them, not on us, so it is never overdue."""
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from siteconfig import store

from ..models import Ticket


def due_at(created_at, priority: str):
    return created_at + timedelta(hours=store.get(f"tickets.{priority}_hours"))


def overdue(now=None) -> Q:
    return Q(status=Ticket.Status.OPEN, due_at__lt=now or timezone.now())


def is_overdue(ticket: Ticket, now=None) -> bool:
    return (ticket.status == Ticket.Status.OPEN and ticket.due_at is not None
            and ticket.due_at < (now or timezone.now()))
