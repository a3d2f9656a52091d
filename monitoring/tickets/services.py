"""Every change to a ticket: opening it, the staff's replies and internal notes, a customer's message,
changes of status, priority, assignee and links, and image attachments.

Each function checks the acting staff member's right to it (monitoring.tickets.access; a refusal is
a PermissionDenied), refuses bad input with a ValidationError saying what is wrong, works on the
ticket's row locked for the length of its transaction (two agents answering at once both land,
in order), writes one audit entry and the thread's entry in that transaction, and texts the customer
only after it commits (a reply rolled back is never sent). SMS go through billing's adapter, which
records each attempt (billing.Notification), sent or failed, in the customer's language.

Customers open tickets and write in them from their account (customer_open, customer_message): no
staff member acts, so the caller names the customer as the actor (audit.actors.acting_as).

Every change is announced after commit as "ticket.changed": to the staff (lib.live.ADMIN, naming no
ticket, since that group holds roles that may not read it: the sidebar badge counts afresh) and, when
the customer can see what changed (a reply, their own message, a new status), to the customer's own
group, whose account page then fetches the thread again. An internal note or a change the customer
does not see never reaches their group.
"""
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit import trail
from billing import messages as sms_text
from billing.notifications import send_sms
from hotspot.models import Customer
from hotspot.phone import InvalidPhone, normalise_phone
from lib import live

from ..models import Ticket, TicketAttachment, TicketMessage
from . import access, numbering, sla

KEEP = object()  # change(): "leave this field as it is" (None clears an assignee, router or payment)
MAX_BODY = TicketMessage._meta.get_field("body").max_length
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# The first bytes of each image kind we store, and the content type it is served with.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# What the customer sees of a thread (their account page): never internal notes, never change lines.
CUSTOMER_SEES = (TicketMessage.Kind.REPLY, TicketMessage.Kind.CUSTOMER)
# What a customer may file a ticket under: a fault of the router or access point is for staff to name
# (the customer sees "no internet" or "slow"), and the category decides which staff see it.
CUSTOMER_CATEGORIES = tuple(category for category in Ticket.Category if category != Ticket.Category.ROUTER)
# Tickets one customer may open from their account: at most this many still open or pending, and at
# most this many within an hour (a stuck button or a script must not flood the queue).
CUSTOMER_MOST_ACTIVE = 5
CUSTOMER_MOST_PER_HOUR = 3
# A customer's messages in their tickets (account page and SMS replies together): each may carry a
# photo kept in the database and each wakes every staff socket, so at most this many an hour, and
# at most this many photo bytes a day.
CUSTOMER_MESSAGES_PER_HOUR = 20
CUSTOMER_PHOTO_BYTES_PER_DAY = 20 * 1024 * 1024
SMS_REPLY_CHARS = 300  # the reply as texted; the whole of it stays in the thread
# A status in the customer's words, for the ticket_status SMS.
STATUS_WORDS = {
    "en": {"open": "open again", "pending": "waiting for your answer", "resolved": "resolved", "closed": "closed"},
    "sw": {"open": "imefunguliwa tena", "pending": "inasubiri jibu lako", "resolved": "imetatuliwa",
           "closed": "imefungwa"},
}
# Where a status may go; resolved and closed go back only by reopening (to open).
MOVES = {
    Ticket.Status.OPEN: {Ticket.Status.PENDING, Ticket.Status.RESOLVED, Ticket.Status.CLOSED},
    Ticket.Status.PENDING: {Ticket.Status.OPEN, Ticket.Status.RESOLVED, Ticket.Status.CLOSED},
    Ticket.Status.RESOLVED: {Ticket.Status.OPEN, Ticket.Status.CLOSED},
    Ticket.Status.CLOSED: {Ticket.Status.OPEN},
}


def open_ticket(by, subject: str, category: str, priority: str, customer: Customer | None = None, phone: str = "",
                body: str = "", router=None, payment=None, assignee=None) -> Ticket:
    """A new ticket, numbered and due by its priority. ``body`` (what the customer said) starts the
    thread as the customer's message, typed by ``by``. A walk-in's ``phone`` that is a customer's
    links that customer."""
    if not access.can_open(by):
        raise PermissionDenied("You may not open tickets.")
    subject = _text(subject, "subject", Ticket._meta.get_field("subject").max_length)
    category = _choice(category, Ticket.Category, "category")
    priority = _choice(priority, Ticket.Priority, "priority")
    body = (body or "").strip()
    if len(body) > MAX_BODY:
        raise ValidationError(f"The description is {len(body)} characters; at most {MAX_BODY}.")
    if phone:
        try:
            phone = normalise_phone(phone)
        except InvalidPhone as error:
            raise ValidationError(str(error)) from None
        customer = customer or Customer.objects.filter(phone=phone).first()
    if customer is None and not phone:
        raise ValidationError("Name the customer or give the caller's phone number.")
    if customer is not None and phone == customer.phone:
        phone = ""  # the customer's own number is read from the customer
    _check_assignee(assignee)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=numbering.next_number(now), customer=customer, phone=phone, subject=subject, category=category,
            priority=priority, assignee=assignee, router=router, payment=payment, created_at=now, updated_at=now,
            due_at=sla.due_at(now, priority), created_by=by)
        if body:
            TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body, author=by,
                                         created_at=now)
        trail.record("opened", ticket, changes={name: [None, value] for name, value in trail.snapshot(
            ticket, ("category", "priority", "customer", "phone", "assignee", "router", "payment")).items()
            if value not in (None, "")})
        _announce(ticket, customer_sees=True)  # a new ticket in the customer's list
    return ticket


def customer_open(customer: Customer, subject: str, category: str, body: str, attachment=None) -> Ticket:
    """A ticket the customer opens from their account, in one of CUSTOMER_CATEGORIES, at normal
    priority, their ``body`` its first message with an optional image (checked as ``attach`` checks
    it, before anything is stored). Refused (a ValidationError with a code the account page words)
    past CUSTOMER_MOST_ACTIVE open tickets or CUSTOMER_MOST_PER_HOUR in the last hour, or a photo past
    the day's CUSTOMER_PHOTO_BYTES_PER_DAY (code "too_many_photos")."""
    subject = _text(subject, "subject", Ticket._meta.get_field("subject").max_length)
    category = _choice(category, Ticket.Category, "category")
    if category not in CUSTOMER_CATEGORIES:
        raise ValidationError(f"A customer cannot choose the category {category!r}.", code="category")
    body = _text(body, "message", MAX_BODY)
    image = _image(attachment) if attachment is not None else None
    now = timezone.now()
    with transaction.atomic():
        # One customer's openings queue on their row, so two at once cannot both pass the counts.
        Customer.objects.select_for_update().filter(pk=customer.pk).exists()
        theirs = Ticket.objects.filter(customer=customer)
        if theirs.filter(status__in=(Ticket.Status.OPEN, Ticket.Status.PENDING)).count() >= CUSTOMER_MOST_ACTIVE:
            raise ValidationError(f"{CUSTOMER_MOST_ACTIVE} tickets of this customer are still open.",
                                  code="too_many_open")
        # Counted: those they opened themselves (staff opening tickets for a caller is not their pace).
        if theirs.filter(created_by__isnull=True, created_at__gte=now - timedelta(hours=1)).count() \
                >= CUSTOMER_MOST_PER_HOUR:
            raise ValidationError(f"This customer opened {CUSTOMER_MOST_PER_HOUR} tickets in the last hour.",
                                  code="too_many_recent")
        # A first message's photo counts against the same day's photo bytes as their answers'.
        _check_photo_bytes(TicketMessage.objects.filter(kind=TicketMessage.Kind.CUSTOMER, author__isnull=True,
                                                        ticket__customer=customer),
                           len(image[2]) if image is not None else 0, now)
        priority = Ticket.Priority.NORMAL
        ticket = Ticket.objects.create(
            number=numbering.next_number(now), customer=customer, subject=subject, category=category,
            priority=priority, created_at=now, updated_at=now, due_at=sla.due_at(now, priority))
        message = TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body,
                                               created_at=now)
        trail.record("opened", ticket, changes={"category": [None, category], "priority": [None, priority],
                                                "customer": [None, str(customer)]},
                     note="opened by the customer from their account")
        if image is not None:
            _store_image(message, image)
        _announce(ticket, customer_sees=True)
    return ticket


def reply(ticket: Ticket, by, body: str) -> TicketMessage:
    """A staff answer, texted to the customer (ticket_reply). The first one is the ticket's first
    response; an open ticket then waits for the customer (pending)."""
    if not access.can_change(by, ticket):
        raise PermissionDenied("You may read this ticket, not answer it.")
    body = _text(body, "reply", MAX_BODY)
    with transaction.atomic():
        ticket = _locked(ticket)
        now = timezone.now()
        message = TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.REPLY, body=body, author=by,
                                               created_at=now)
        changed = {}
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            changed["first_response_at"] = [None, now]
        if ticket.status == Ticket.Status.OPEN:
            ticket.status = Ticket.Status.PENDING
            changed["status"] = [Ticket.Status.OPEN.value, Ticket.Status.PENDING.value]
        ticket.updated_at = now
        ticket.save(update_fields=["first_response_at", "status", "updated_at"])
        trail.record("replied", ticket, changes=changed, note=f"reply of {len(body)} characters texted to the customer")
        _text_customer_after_commit(ticket, "ticket_reply", reply=_shortened(body, SMS_REPLY_CHARS))
        _announce(ticket, customer_sees=True)
    return message


def note(ticket: Ticket, by, body: str) -> TicketMessage:
    """An internal note: staff only, never texted, never shown to the customer."""
    if not access.can_note(by, ticket):
        raise PermissionDenied("You may not see this ticket.")
    body = _text(body, "note", MAX_BODY)
    with transaction.atomic():
        ticket = _locked(ticket)
        now = timezone.now()
        message = TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.NOTE, body=body, author=by,
                                               created_at=now)
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        trail.record("noted", ticket, note=f"internal note of {len(body)} characters")  # its words stay in the thread
        _announce(ticket, customer_sees=False)
    return message


def customer_message(ticket: Ticket, body: str, attachment=None, *, refuse_closed: bool = False) -> TicketMessage:
    """The customer's own words (their account page, an SMS reply), with an optional image checked
    as ``attach`` checks it: the ticket is open again for staff unless it was closed. With
    ``refuse_closed`` (the account page, which tells them to open a new ticket instead) a closed
    ticket is a ValidationError (code "closed") and nothing is stored; so is a message past the
    customer's pace (_check_customer_pace: codes "too_many_messages", "too_many_photos"). The caller
    names the customer as the actor (audit.actors.acting_as)."""
    body = _text(body, "message", MAX_BODY)
    image = _image(attachment) if attachment is not None else None
    with transaction.atomic():
        if ticket.customer_id:
            # The customer's row before the ticket's, as customer_open takes it: one customer's messages
            # queue there, so two at once cannot both pass the pace.
            Customer.objects.select_for_update().filter(pk=ticket.customer_id).exists()
        ticket = _locked(ticket)
        if refuse_closed and ticket.status == Ticket.Status.CLOSED:
            raise ValidationError(f"Ticket {ticket.number} is closed: open a new one.", code="closed")
        now = timezone.now()
        _check_customer_pace(ticket, len(image[2]) if image is not None else 0, now)
        message = TicketMessage.objects.create(ticket=ticket, kind=TicketMessage.Kind.CUSTOMER, body=body,
                                               created_at=now)
        before = ticket.status
        if ticket.status in (Ticket.Status.PENDING, Ticket.Status.RESOLVED):
            ticket.status, ticket.resolved_at = Ticket.Status.OPEN, None
        ticket.updated_at = now
        ticket.save(update_fields=["status", "resolved_at", "updated_at"])
        trail.record("customer_wrote", ticket, changes={"status": [before, ticket.status]} if before != ticket.status
                     else {}, note=f"message of {len(body)} characters")
        if image is not None:
            _store_image(message, image)
        _announce(ticket, customer_sees=True)
    return message


def _check_customer_pace(ticket: Ticket, photo_bytes: int, now) -> None:
    """Refuse the customer's message past their pace: counted over all of their tickets (a walk-in's,
    with no customer, over this ticket), only the messages they wrote themselves (no staff author:
    what staff typed for a caller is not their pace). The caller holds the customer's (or ticket's) row."""
    theirs = TicketMessage.objects.filter(kind=TicketMessage.Kind.CUSTOMER, author__isnull=True)
    theirs = theirs.filter(ticket__customer_id=ticket.customer_id) if ticket.customer_id else theirs.filter(
        ticket=ticket)
    if theirs.filter(created_at__gte=now - timedelta(hours=1)).count() >= CUSTOMER_MESSAGES_PER_HOUR:
        raise ValidationError(f"This customer wrote {CUSTOMER_MESSAGES_PER_HOUR} messages in the last hour.",
                              code="too_many_messages")
    _check_photo_bytes(theirs, photo_bytes, now)


def _check_photo_bytes(theirs, photo_bytes: int, now) -> None:
    """Refuse a photo that takes the customer's messages (``theirs``) past a day's photo bytes."""
    if photo_bytes:
        sent = TicketAttachment.objects.filter(message__in=theirs.filter(created_at__gte=now - timedelta(days=1))
                                               ).aggregate(total=Sum("size"))["total"] or 0
        if sent + photo_bytes > CUSTOMER_PHOTO_BYTES_PER_DAY:
            raise ValidationError(f"This customer sent {sent / 1024 / 1024:.1f} MB of photos in the last day; at "
                                  f"most {CUSTOMER_PHOTO_BYTES_PER_DAY // 1024 // 1024} MB.", code="too_many_photos")


def change(ticket: Ticket, by, status=None, priority=None, assignee=KEEP, router=KEEP, payment=KEEP) -> Ticket:
    """Change what is given (status and priority: None keeps them; assignee, router, payment: None
    clears them). Each change is a line in the thread (an EVENT) and in one audit entry; a new status
    is texted to the customer (ticket_status); a new priority moves the due time."""
    if not access.can_change(by, ticket):
        raise PermissionDenied("You may read this ticket, not change it.")
    if status is not None:
        status = _choice(status, Ticket.Status, "status")
    if priority is not None:
        priority = _choice(priority, Ticket.Priority, "priority")
    if assignee is not KEEP:
        _check_assignee(assignee)
    with transaction.atomic():
        ticket = _locked(ticket)
        now = timezone.now()
        before = trail.snapshot(ticket, ("status", "priority", "assignee", "router", "payment", "due_at"))
        if status is not None and status != ticket.status:
            if status not in MOVES[ticket.status]:
                raise ValidationError(f"A {ticket.get_status_display().lower()} ticket cannot become "
                                      f"{Ticket.Status(status).label.lower()}: reopen it first.")
            _move(ticket, status, now)
        if priority is not None and priority != ticket.priority:
            ticket.priority, ticket.due_at = priority, sla.due_at(ticket.created_at, priority)
        for name, value in (("assignee", assignee), ("router", router), ("payment", payment)):
            if value is not KEEP and getattr(ticket, f"{name}_id") != (value.pk if value is not None else None):
                setattr(ticket, name, value)
        after = trail.snapshot(ticket, before)
        changed = trail.changes(before, after)
        if not changed:
            return ticket
        ticket.updated_at = now
        ticket.save()
        TicketMessage.objects.bulk_create([
            TicketMessage(ticket=ticket, kind=TicketMessage.Kind.EVENT, author=by, created_at=now,
                          body=f"{Ticket._meta.get_field(name).verbose_name.capitalize()}: "
                               f"{_shown(ticket, name, old)} → {_shown(ticket, name, new)}")
            for name, (old, new) in changed.items() if name != "due_at"])
        trail.record("changed", ticket, changes=changed)
        if "status" in changed:
            words = STATUS_WORDS.get(sms_text.language(ticket.customer), STATUS_WORDS["en"])
            _text_customer_after_commit(ticket, "ticket_status", status=words[ticket.status])
        # The customer sees the status; the assignee, priority and links are the staff's own business.
        _announce(ticket, customer_sees="status" in changed)
    return ticket


def attach(message: TicketMessage, uploaded_file) -> TicketAttachment:
    """Store an image on ``message``: PNG, JPEG, WebP or GIF by its own first bytes (whatever the
    upload claims), at most MAX_ATTACHMENT_BYTES. Anything else is a ValidationError (code "too_big"
    or "not_image") and stores nothing."""
    image = _image(uploaded_file)
    with transaction.atomic():
        ticket = _locked(message.ticket)  # its status as it is now, for the announcement
        attachment = _store_image(message, image)
        # The customer hears of it only when the message is one they see.
        _announce(ticket, customer_sees=message.kind in CUSTOMER_SEES)
    return attachment


def image_type(data: bytes) -> str | None:
    """The image's content type from its first bytes, or None for anything that is not one we take."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for signature, kind in IMAGE_SIGNATURES if data.startswith(signature)), None)


def _image(uploaded_file) -> tuple[str, str, bytes]:
    """The upload's (name, content type, bytes) if it is an image we take, else a ValidationError."""
    size = uploaded_file.size
    if size is None or size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(f"The file is {(size or 0) / 1024 / 1024:.1f} MB; an attachment may be at most "
                              f"{MAX_ATTACHMENT_BYTES // 1024 // 1024} MB.", code="too_big")
    uploaded_file.seek(0)
    data = uploaded_file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:  # the declared size was wrong
        raise ValidationError(f"An attachment may be at most {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB.",
                              code="too_big")
    content_type = image_type(data)
    if content_type is None:
        raise ValidationError("Only images can be attached: a PNG, JPEG, WebP or GIF file.", code="not_image")
    name = (uploaded_file.name or "image").replace("\x00", "").rsplit("/", 1)[-1][-200:] or "image"
    return name, content_type, data


def _store_image(message: TicketMessage, image: tuple[str, str, bytes]) -> TicketAttachment:
    name, content_type, data = image
    attachment = TicketAttachment.objects.create(message=message, name=name, content_type=content_type,
                                                 size=len(data), data=data)
    trail.record("attached", message.ticket, note=f"{name} ({content_type}, {len(data) / 1024:.0f} KB)")
    return attachment


def _announce(ticket: Ticket, *, customer_sees: bool) -> None:
    """"ticket.changed" after commit: to the staff always, empty (the sidebar's count refetches), to
    the customer's own group only when ``customer_sees`` what changed."""
    # The staff group is every staff socket, whatever tickets each role may read: it hears only that
    # something changed (the sidebar badge fetches its own count afresh), never which ticket or how.
    live.publish(live.ADMIN, "ticket.changed")
    if customer_sees and ticket.customer_id:
        live.publish(live.customer_group(ticket.customer_id), "ticket.changed", {"number": ticket.number})


def _move(ticket: Ticket, status: str, now) -> None:
    if status == Ticket.Status.OPEN:  # reopened (or back from pending): no longer resolved or closed
        ticket.resolved_at = ticket.closed_at = None
    elif status == Ticket.Status.RESOLVED:
        ticket.resolved_at = now
    elif status == Ticket.Status.CLOSED:
        ticket.closed_at = now
    ticket.status = status


def _shown(ticket: Ticket, name: str, value) -> str:
    if value in (None, ""):
        return "none"
    choices = dict(Ticket._meta.get_field(name).choices or ())
    return str(choices.get(value, value))


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=ticket.pk)


def _text_customer_after_commit(ticket: Ticket, name: str, **values) -> None:
    to = ticket.contact_phone
    if not to:
        return
    text = sms_text.compose(name, sms_text.language(ticket.customer), number=ticket.number,
                            subject=_shortened(ticket.subject, 60), **values)
    customer = ticket.customer
    transaction.on_commit(lambda: send_sms(to, text, customer=customer))


def _shortened(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def _text(value, what: str, most: int) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        raise ValidationError(f"The {what} is empty.", code="empty")
    if len(value) > most:
        raise ValidationError(f"The {what} is {len(value)} characters; at most {most}.", code="too_long")
    if "\x00" in value:
        raise ValidationError(f"The {what} holds a NUL character.", code="nul")
    return value


def _choice(value, choices, what: str) -> str:
    if value not in choices.values:
        raise ValidationError(f"Unknown {what} {str(value)[:30]!r}: one of {', '.join(choices.values)}.",
                              code="unknown")
    return str(value)


def _check_assignee(assignee) -> None:
    if assignee is not None and not access.may_be_assigned(assignee):
        raise ValidationError(f"{assignee} cannot be assigned tickets (an active staff member who may change "
                              "tickets).")
