"""Support tickets, staff side: the queue (/tickets/), a new ticket (/tickets/new/), and a ticket's page
(/tickets/<number>/) with its thread, reply and internal-note forms, the change form and the
customer's panel (subscription, last sessions, last payments), so "payment not credited" is answered
on the spot.

Who sees which ticket is monitoring.tickets.access's answer: a ticket outside it is a 404, and a
change by someone who may only read it a 403. Every change goes through monitoring.tickets.services.
"""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import access, perm
from billing.models import Payment
from hotspot import services as customer_services
from lib.listing import list_page
from radius import sessions as radius_sessions

from ..models import Ticket, TicketAttachment
from ..ticket_forms import ChangeForm, MessageForm, NewTicketForm, TicketFilter
from ..tickets import access as ticket_access
from ..tickets import badge
from ..tickets import services as tickets

SHOWN = 5  # sessions and payments in the customer's panel
# Counting every ticket exactly on each view of "All" (200,000 after a few years) costs more than the
# page; past this many the pagination says "more than" and a person narrows with the filters.
COUNTED_UP_TO = 1_000


def _visible(request):
    return ticket_access.visible_to(request.user)


def _ticket(request, number: str) -> Ticket:
    return get_object_or_404(_visible(request).select_related(
        "customer", "assignee", "router", "payment", "created_by"), number=number[:20])


def _may_change(user) -> bool:
    """ticket_access.can_change for a ticket already taken through visible_to (without asking again)."""
    return user.has_perm(ticket_access.CHANGE)


@access(perm("monitoring.view_ticket"))
@require_safe
def ticket_list(request):
    filters = TicketFilter(request.GET, user=request.user)
    rows = filters.apply(_visible(request)).select_related("customer", "assignee")
    return list_page(request, rows, "monitoring/tickets.html", filters=filters, count_up_to=COUNTED_UP_TO,
                     can_open=request.user.has_perm("monitoring.add_ticket"))


@access(perm("monitoring.view_ticket"))
@require_safe
def ticket_badge(request):
    """The sidebar's number of open tickets, counted afresh: what a page fetches on "ticket.changed"."""
    return render(request, "monitoring/tickets_badge.html", {"number": badge.count_again(request)})


@access(perm("monitoring.add_ticket"))
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    form = NewTicketForm(request.POST or None, initial={"who": request.GET.get("who", "")[:100]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = tickets.open_ticket(
                request.user, subject=data["subject"], category=data["category"], priority=data["priority"],
                customer=data["customer"], phone=data["phone"], body=data["body"], router=data["router"],
                payment=data["payment"], assignee=data["assignee"])
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, f"Ticket {ticket.number} opened.")
            return redirect("ticket-detail", number=ticket.number)
    return render(request, "monitoring/ticket_new.html", {"form": form})


def _customer_panel(ticket: Ticket) -> dict:
    customer = ticket.customer
    if customer is None and not ticket.phone:
        return {}
    mine = Q(customer=customer) | (Q(phone=customer.phone, customer__isnull=True) if customer.phone else Q()) \
        if customer else Q(phone=ticket.phone)
    panel = {"payments": list(Payment.objects.filter(mine).select_related("package")
                              .order_by("-created_at", "-pk")[:SHOWN])}
    if customer is not None:
        panel["current"] = customer_services.current_subscription(customer)
        panel["sessions"] = list(radius_sessions.history(customer.username)[:SHOWN]) if customer.username else []
    return panel


def _detail(request, ticket: Ticket, *, reply_form=None, note_form=None, change_form=None, status=200):
    thread = ticket.messages.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=TicketAttachment.objects.defer("data")))
    can_change = _may_change(request.user)
    context = {"ticket": ticket, "thread": list(thread), "can_change": can_change,
               "note_form": note_form or MessageForm(prefix="note"),  # whoever sees it (ticket_access.can_note)
               "can_see_customer": request.user.has_perm("hotspot.view_customer")}
    if can_change:
        context.update(
            reply_form=reply_form or MessageForm(prefix="reply"),
            change_form=change_form or ChangeForm(initial={
                "status": ticket.status, "priority": ticket.priority, "assignee": ticket.assignee_id,
                "router": ticket.router_id,
                "payment": (ticket.payment.mpesa_receipt or ticket.payment_id) if ticket.payment else ""}))
    if context["can_see_customer"]:
        context.update(_customer_panel(ticket))
    return render(request, "monitoring/ticket_detail.html", context, status=status)


@access(perm("monitoring.view_ticket"))
@require_safe
def ticket_detail(request, number):
    return _detail(request, _ticket(request, number))


def _changeable(request, number) -> Ticket:
    ticket = _ticket(request, number)
    if not _may_change(request.user):
        raise PermissionDenied("You may read this ticket, not change it.")
    return ticket


def _post_message(request, number, kind: str):
    # An internal note: whoever sees the ticket (Finance explains a payment to the desk); a reply
    # reaches the customer: only those who may change it.
    ticket = _changeable(request, number) if kind == "reply" else _ticket(request, number)
    form = MessageForm(request.POST, request.FILES, prefix=kind)
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused image stores no message either
                write = tickets.reply if kind == "reply" else tickets.note
                message = write(ticket, request.user, form.cleaned_data["body"])
                if form.cleaned_data["image"]:
                    tickets.attach(message, form.cleaned_data["image"])
        except ValidationError as refused:
            form.add_error("image", refused)
        else:
            messages.success(request, "Reply sent." if kind == "reply" else "Internal note added.")
            return redirect("ticket-detail", number=ticket.number)
    forms = {"reply_form": form} if kind == "reply" else {"note_form": form}
    return _detail(request, ticket, status=400, **forms)


@access(perm("monitoring.view_ticket"))
@require_POST
def ticket_reply(request, number):
    return _post_message(request, number, "reply")


@access(perm("monitoring.view_ticket"))
@require_POST
def ticket_note(request, number):
    return _post_message(request, number, "note")


@access(perm("monitoring.view_ticket"))
@require_POST
def ticket_change(request, number):
    ticket = _changeable(request, number)
    form = ChangeForm(request.POST)
    if not form.is_valid():
        return _detail(request, ticket, change_form=form, status=400)
    data = form.cleaned_data
    changes = {name: data[name] for name in ("status", "priority", "assignee", "router", "payment")
               if getattr(ticket, f"{name}_id" if name in ("assignee", "router", "payment") else name)
               != (data[name].pk if hasattr(data[name], "pk") else data[name])}
    if changes:
        try:
            tickets.change(ticket, request.user, **changes)
        except ValidationError as refused:
            form.add_error(None, refused)
            return _detail(request, ticket, change_form=form, status=400)
        messages.success(request, "Ticket changed.")
    return redirect("ticket-detail", number=ticket.number)


@access(perm("monitoring.view_ticket"))
@require_safe
def ticket_attachment(request, number, pk):
    """An attached image, served from the database to whoever sees its ticket."""
    ticket = _ticket(request, number)
    attachment = get_object_or_404(TicketAttachment, pk=pk, message__ticket=ticket)
    response = HttpResponse(bytes(attachment.data), content_type=attachment.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
