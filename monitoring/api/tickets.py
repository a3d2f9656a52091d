"""API /api/tickets: the support queue, one ticket with its thread, opening and changing tickets, and
replies or internal notes. A ticket the caller may not see (monitoring.tickets.access) is a 404,
as if it did not exist; every change goes through monitoring.tickets.services."""
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from accounts.access import api_access, perm
from accounts.models import User
from billing.models import Payment
from hotspot.models import Customer
from lib.paging import page
from lib.whole_numbers import BIGINT_MAX
from routers.models import Router as NetworkRouter

from ..models import Ticket, TicketAttachment, TicketMessage
from ..tickets import access, services, sla
from ..tickets.search import search

tickets_router = Router(tags=["tickets"])
VIEW, ADD, CHANGE = perm(access.VIEW), perm(access.ADD), perm(access.CHANGE)
AnId = Field(None, ge=1, le=BIGINT_MAX)


class TicketOut(Schema):
    number: str
    subject: str
    category: Ticket.Category
    priority: Ticket.Priority
    status: Ticket.Status
    customer_id: int | None
    customer_name: str = Field("", description="the customer's name, or blank for a walk-in")
    phone: str = Field(..., description="where SMS about the ticket go: the customer's phone or the walk-in's")
    assignee_id: int | None
    assignee: str | None = Field(None, description="the assignee's username")
    router_id: int | None
    payment_id: int | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    overdue: bool = Field(..., description="open (waiting for staff) past its due time")
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_customer_name(ticket) -> str:
        return ticket.customer.name if ticket.customer_id else ""

    @staticmethod
    def resolve_phone(ticket) -> str:
        return ticket.contact_phone

    @staticmethod
    def resolve_assignee(ticket) -> str | None:
        return ticket.assignee.username if ticket.assignee_id else None

    @staticmethod
    def resolve_overdue(ticket) -> bool:
        return sla.is_overdue(ticket)


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int


class MessageOut(Schema):
    id: int
    kind: TicketMessage.Kind = Field(..., description="reply (texted to the customer), note (staff only), "
                                                      "customer, or event (a change)")
    body: str
    author: str | None = Field(None, description="the staff member's username; none for the customer's own")
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_author(message) -> str | None:
        return message.author.username if message.author_id else None

    @staticmethod
    def resolve_attachments(message) -> list:
        return list(message.attachments.all())


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(ticket) -> list:
        return list(ticket.messages.all())


class TicketPage(Schema):
    count: int
    results: list[TicketOut]


class TicketFilter(Schema):
    status: Ticket.Status | None = None
    category: Ticket.Category | None = None
    priority: Ticket.Priority | None = None
    assignee: int | None = Field(None, ge=1, le=BIGINT_MAX, description="the assignee's id")
    unassigned: bool = Field(False, description="only tickets nobody is assigned")
    overdue: bool = Field(False, description="only open tickets past their due time")
    mine: bool = Field(False, description="only tickets assigned to the caller")
    q: str | None = Field(None, max_length=100, description="a ticket number, a phone number, or words of the subject")


class TicketIn(Schema):
    subject: str = Field(..., min_length=1, max_length=200)
    category: Ticket.Category = Ticket.Category.OTHER
    priority: Ticket.Priority = Ticket.Priority.NORMAL
    customer_id: int | None = AnId
    phone: str = Field("", max_length=20, description="a walk-in's phone (07XX…); links the customer who has it")
    body: str = Field("", max_length=5000, description="what the customer reported")
    assignee_id: int | None = AnId
    router_id: int | None = AnId
    payment_id: int | None = AnId


class TicketPatch(Schema):
    """Only the fields sent change; null clears an assignee, router or payment."""
    status: Ticket.Status | None = None
    priority: Ticket.Priority | None = None
    assignee_id: int | None = AnId
    router_id: int | None = AnId
    payment_id: int | None = AnId


class MessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=5000)
    internal: bool = Field(False, description="true: an internal note for staff; false: a reply texted to the customer")


def _rows(user):
    return access.visible_to(user).select_related("customer", "assignee")


def _ticket(request, number: str) -> Ticket:
    ticket = (_rows(request.auth).prefetch_related(
        Prefetch("messages", TicketMessage.objects.select_related("author").prefetch_related(
            Prefetch("attachments", TicketAttachment.objects.defer("data")))))
        .filter(number=number.strip().upper()[:20]).first())
    if ticket is None:
        raise HttpError(404, f"No ticket {number[:20]}")
    return ticket


def _one(model, pk: int | None, what: str):
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise HttpError(422, f"{what}: no {what.removesuffix('_id')} {pk}")
    return found


def _refused(error: ValidationError) -> HttpError:
    return HttpError(422, " ".join(error.messages))


@tickets_router.get("", auth=api_access(VIEW), response=TicketPage, summary="The tickets the caller may see, "
                    "most recently changed first")
def list_tickets(request, filters: Query[TicketFilter], limit: int = 50, offset: int = 0):
    rows = _rows(request.auth)
    for name in ("status", "category", "priority"):
        if getattr(filters, name):
            rows = rows.filter(**{name: getattr(filters, name)})
    if filters.assignee:
        rows = rows.filter(assignee_id=filters.assignee)
    if filters.unassigned:
        rows = rows.filter(assignee=None)
    if filters.mine:
        rows = rows.filter(assignee=request.auth)
    if filters.overdue:
        rows = rows.filter(sla.overdue(timezone.now()))
    q = (filters.q or "").strip()
    if q:
        rows = search(rows, q)
    return page(rows, limit, offset)


@tickets_router.post("", auth=api_access(ADD), response={201: TicketDetailOut}, summary="Open a ticket")
def open_ticket(request, data: TicketIn):
    try:
        ticket = services.open_ticket(
            request.auth, subject=data.subject, category=data.category, priority=data.priority,
            customer=_one(Customer, data.customer_id, "customer_id"), phone=data.phone, body=data.body,
            router=_one(NetworkRouter, data.router_id, "router_id"),
            payment=_one(Payment, data.payment_id, "payment_id"),
            assignee=_one(User, data.assignee_id, "assignee_id"))
    except ValidationError as error:
        raise _refused(error) from None
    return Status(201, _ticket(request, ticket.number))


@tickets_router.get("/{number}", auth=api_access(VIEW), response=TicketDetailOut,
                    summary="One ticket with its thread (replies, internal notes, customer messages, changes)")
def get_ticket(request, number: str):
    return _ticket(request, number)


@tickets_router.patch("/{number}", auth=api_access(CHANGE), response=TicketDetailOut,
                      summary="Change a ticket's status, priority, assignee, router or payment")
def change_ticket(request, number: str, data: TicketPatch):
    ticket = _ticket(request, number)
    sent = data.model_fields_set
    changes = {name: getattr(data, name) for name in ("status", "priority") if name in sent}
    for name, model in (("assignee", User), ("router", NetworkRouter), ("payment", Payment)):
        if f"{name}_id" in sent:
            changes[name] = _one(model, getattr(data, f"{name}_id"), f"{name}_id")
    try:
        services.change(ticket, request.auth, **changes)
    except PermissionDenied as refused:
        raise HttpError(403, str(refused)) from None
    except ValidationError as error:
        raise _refused(error) from None
    return _ticket(request, ticket.number)


@tickets_router.post("/{number}/messages", auth=api_access(VIEW), response={201: MessageOut},
                     summary="Reply to the customer (texted to them) or add an internal note (staff only)")
def add_ticket_message(request, number: str, data: MessageIn):
    ticket = _ticket(request, number)
    write = services.note if data.internal else services.reply
    try:
        message = write(ticket, request.auth, data.body)
    except PermissionDenied as refused:
        raise HttpError(403, str(refused)) from None
    except ValidationError as error:
        raise _refused(error) from None
    return Status(201, message)
