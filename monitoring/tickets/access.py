"""Who sees and works which ticket, by permission, never by role name.

- ``monitoring.view_all_tickets`` (Admin, Support): every ticket.
- Otherwise ``monitoring.view_ticket`` shows the tickets assigned to the user, plus those of the
  areas the user's role already looks after: router tickets with ``routers.view_router``
  (Technician), payment and billing tickets with ``billing.view_payment`` (Finance).
- Of what a user sees, ``monitoring.change_ticket`` lets them reply, change status, priority,
  assignee and links (Admin, Support, Technician); ``monitoring.view_ticket`` alone lets them read
  and add internal notes (Finance: they can explain a payment to the desk, never to the customer).
Pages and the API take tickets only through ``visible_to``, so a ticket outside it is a 404.
"""
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from ..models import Ticket

VIEW, VIEW_ALL, ADD, CHANGE = ("monitoring.view_ticket", "monitoring.view_all_tickets", "monitoring.add_ticket",
                               "monitoring.change_ticket")
# The categories a permission of another area brings into sight.
AREAS = (
    ("routers.view_router", (Ticket.Category.ROUTER,)),
    ("billing.view_payment", (Ticket.Category.PAYMENT, Ticket.Category.BILLING)),
)


def visible_to(user) -> QuerySet:
    """The tickets ``user`` may see."""
    tickets = Ticket.objects.all()
    if not (user.is_authenticated and user.is_active and user.has_perm(VIEW)):
        return tickets.none()
    if user.has_perm(VIEW_ALL):
        return tickets
    seen = Q(assignee=user)
    for permission, categories in AREAS:
        if user.has_perm(permission):
            seen |= Q(category__in=categories)
    return tickets.filter(seen)


def audit_ids(user) -> QuerySet | None:
    """The ids of the tickets ``user`` may see as the audit trail keeps them (text), for its entries
    (audit.trail.OBJECT_RULES); None when they see every ticket."""
    if user.has_perm(VIEW_ALL):
        return None
    return visible_to(user).annotate(key=Cast("pk", CharField())).values("key")


def can_view(user, ticket: Ticket) -> bool:
    return visible_to(user).filter(pk=ticket.pk).exists()


def can_note(user, ticket: Ticket) -> bool:
    """Internal notes: whoever sees the ticket."""
    return can_view(user, ticket)


def can_change(user, ticket: Ticket) -> bool:
    """Replies to the customer and every change of the ticket's fields."""
    return user.has_perm(CHANGE) and can_view(user, ticket)


def can_open(user) -> bool:
    return user.is_active and user.has_perm(ADD)


def may_be_assigned(user) -> bool:
    """An assignee works the ticket: an active staff member who may change tickets."""
    return user.is_active and user.has_perm(CHANGE)
