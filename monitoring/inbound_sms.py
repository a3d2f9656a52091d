"""Customers' SMS replies, as Africa's Talking posts them to our inbound webhook: every post stored
as it came (forged and malformed ones too), then routed by the sender's phone to one of their
tickets, where it becomes the customer's message (monitoring.tickets.services.customer_message).

Which ticket: a ticket number written in the text ("T-2026-00042 still down", any case, "t 2026 42"
too) when it is a ticket of that phone and not closed; otherwise that phone's most recently updated
ticket that is open, pending the customer, or resolved within REPLY_WINDOW_DAYS. "That phone's"
means the ticket's customer has the number or the ticket records it (a walk-in, or a caller who
phoned from another number). A number naming a closed ticket is not redirected to another one: the
customer meant that ticket, so the post is kept unmatched for staff to read. So is a reply past the
customer's pace (monitoring.tickets.services.CUSTOMER_MESSAGES_PER_HOUR, shared with the account page).

A post is stored once per Africa's Talking message id (a unique constraint), and its message is
written in the same transaction as the row, under the ticket's row lock: a retried or concurrent
duplicate finds the row, writes nothing and gets the first one's answer.
"""
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from audit.actors import Actor, acting_as
from hotspot.models import Customer
from hotspot.phone import InvalidPhone, normalise_phone
from lib.network import address_or_none, address_subject
from lib.throttle import Throttle

from .models import InboundSms, Ticket, TicketMessage
from .tickets import services as tickets

log = logging.getLogger(__name__)
Status = InboundSms.Status

# A resolved ticket still takes the customer's replies this long after it was resolved ("it works
# again... no, it dropped"); after that a reply is unmatched rather than reopening old business.
REPLY_WINDOW_DAYS = 14
# The fields Africa's Talking sends with every incoming message; linkId only for premium/on-demand
# shortcodes, so it may be absent.
REQUIRED = ("from", "to", "text", "date", "id")
FIELDS = (*REQUIRED, "linkId")
MAX_TEXT = TicketMessage._meta.get_field("body").max_length  # what a thread message may hold
# A form with MAX_TEXT characters of 4-byte characters, percent-encoded, and its other fields: a
# body longer than this is not read at all.
MAX_POST_BYTES = 64 * 1024
RAW_CHARS = 4000  # of a post we keep; a forged one keeps less (it is anyone's)
FORGED_RAW_CHARS = 2000
# Forged posts are kept (someone has found the endpoint) but cannot fill the database: at most so
# many per source address (an IPv6 /64) and in all per hour, like M-Pesa's wrong-token posts.
FORGED_PER_ADDRESS, FORGED_IN_ALL, FORGED_WINDOW_SECONDS = 20, 500, 3600
# ... and deleted after this many days by the nightly purge_forged_sms job (real posts are kept).
FORGED_RETENTION_DAYS = 30
TICKET_NUMBER = re.compile(r"\bT[-\s]?(\d{4})[-\s](\d{1,9})\b", re.IGNORECASE | re.ASCII)
# Any international number: a phone, though not a Kenyan mobile that could be a customer's.
ANY_PHONE = re.compile(r"\+?\d{7,15}", re.ASCII)


@dataclass(frozen=True)
class Form:
    provider_id: str
    sender: str  # E.164 digits
    to: str
    text: str
    link_id: str
    kenyan: bool  # normalised as our customers' phones are; another country's number matches nothing


class Refused(ValueError):
    """A post that is not a well-formed Africa's Talking incoming message; the message says why."""

    def __init__(self, detail: str, provider_id: str = ""):
        super().__init__(detail)
        self.provider_id = provider_id


def token_is_right(token: str) -> bool:
    return hmac.compare_digest(token.encode(), settings.SMS_INBOUND_TOKEN.encode())


def keep_forged(raw: bytes, source_ip: str | None, token: str) -> InboundSms | None:
    """A post to a wrong token, kept cut short; None (not kept) past the forged-post limits."""
    # The address first, so one noisy address does not use up the total for the others.
    if _forged_throttle().take(address_subject(source_ip or "unknown")) or _forged_cap().take("all"):
        log.warning("inbound SMS to a wrong token from %s not kept: over the limit", source_ip)
        return None
    return InboundSms.objects.create(raw=_readable(raw, FORGED_RAW_CHARS), source_ip=address_or_none(source_ip),
                                     status=Status.FORGED, detail=f"token {token[:40]!r}")


def keep_unread(size: int, source_ip: str | None) -> InboundSms:
    """A post too big to read (with the right token): kept as a note of its size."""
    return InboundSms.objects.create(source_ip=address_or_none(source_ip), status=Status.REJECTED,
                                     detail=f"a body of {size} bytes, more than {MAX_POST_BYTES} (not read)")


def purge_forged(now=None) -> int:
    """Delete forged posts older than FORGED_RETENTION_DAYS; nothing else. How many went."""
    cutoff = (now or timezone.now()) - timedelta(days=FORGED_RETENTION_DAYS)
    deleted, _ = InboundSms.objects.filter(status=Status.FORGED, received_at__lt=cutoff).delete()
    return deleted


def receive(raw: bytes, content_type: str, source_ip: str | None) -> InboundSms:
    """A post with the right token: stored once per message id, attached to the sender's ticket
    when there is one (else unmatched), or rejected when it is not a well-formed incoming message."""
    try:
        form = parse(raw, content_type)
    except Refused as refusal:
        return _store_once(provider_id=refusal.provider_id, raw=_readable(raw, RAW_CHARS),
                           source_ip=address_or_none(source_ip), status=Status.REJECTED, detail=str(refusal)[:255])[0]
    row = dict(provider_id=form.provider_id, sender=form.sender, to=form.to, text=form.text, link_id=form.link_id,
               raw=_readable(raw, RAW_CHARS), source_ip=address_or_none(source_ip))
    earlier = InboundSms.objects.filter(provider_id=form.provider_id).first()
    if earlier is not None:  # Africa's Talking retried: the first post's answer stands
        return earlier
    ticket, detail = route(form) if form.kenyan else (None, "not a Kenyan mobile number: no customer has it")
    if ticket is None:
        return _store_once(**row, status=Status.UNMATCHED, detail=detail)[0]
    return _attach(ticket, form, row, detail)


def parse(raw: bytes, content_type: str) -> Form:
    """The incoming message in an Africa's Talking form post, or Refused saying what is wrong."""
    if content_type != "application/x-www-form-urlencoded":
        raise Refused(f"content type {content_type[:60]!r}, not a form (application/x-www-form-urlencoded)")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20, errors="strict")
    except ValueError as error:  # not UTF-8 (as bytes or percent-escapes), or too many fields
        raise Refused(f"not a form of UTF-8 text ({str(error)[:80]})") from None
    form = {}
    for name, value in pairs:
        if name in form and name in FIELDS:
            raise Refused(f"{name!r} is given twice")
        form[name] = value
    provider_id = form.get("id", "")
    provider_id = provider_id if 0 < len(provider_id) <= 64 and "\x00" not in provider_id else ""
    missing = [name for name in REQUIRED if name not in form]
    if missing:
        raise Refused(f"missing {', '.join(missing)}", provider_id)
    holding_nul = [name for name in FIELDS if "\x00" in form.get(name, "")]
    if holding_nul:
        raise Refused(f"{', '.join(holding_nul)} holds a NUL character", provider_id)
    if not provider_id:
        raise Refused(f"the id is {'empty' if not form['id'] else 'longer than 64 characters'}")
    for name, most in (("to", 20), ("linkId", 64)):
        if len(form.get(name, "")) > most:
            raise Refused(f"{name} is longer than {most} characters", provider_id)
    text = form["text"].strip()
    if not text:
        raise Refused("the text is empty", provider_id)
    if len(text) > MAX_TEXT:
        raise Refused(f"the text is {len(text)} characters; at most {MAX_TEXT}", provider_id)
    sender, kenyan = _sender(form["from"], provider_id)
    return Form(provider_id=provider_id, sender=sender, to=form["to"], text=text, link_id=form.get("linkId", ""),
                kenyan=kenyan)


def route(form: Form) -> tuple[Ticket | None, str]:
    """The ticket a message from ``form.sender`` belongs to, and why (or why none)."""
    theirs = _tickets_of(form.sender)
    # The first few numbers written, in their order; one that is not theirs (someone else's, a typo)
    # decides nothing.
    numbers = [f"T-{year}-{int(sequence):05d}" for year, sequence in TICKET_NUMBER.findall(form.text)][:5]
    named = {ticket.number: ticket for ticket in theirs.filter(number__in=numbers)} if numbers else {}
    for number in (number for number in numbers if number in named):
        if named[number].status == Ticket.Status.CLOSED:
            return None, f"names {number}, which is closed"
        return named[number], f"names {number}"
    latest = theirs.filter(_takes_replies()).order_by("-updated_at", "-pk").first()
    if latest is not None:
        return latest, "the sender's latest ticket"
    if not theirs.exists() and not Customer.objects.filter(phone=form.sender).exists():
        return None, "no customer or ticket has this number"
    return None, f"no open, pending or recently resolved (last {REPLY_WINDOW_DAYS} days) ticket for this number"


def _attach(ticket: Ticket, form: Form, row: dict, why: str) -> InboundSms:
    """The row and the customer's message in one transaction, under the ticket's row lock."""
    with transaction.atomic():
        # The customer's row before the ticket's, the order customer_message takes them in (a reply
        # from the account page at the same moment must not deadlock with this one).
        Customer.objects.select_for_update().filter(pk=ticket.customer_id).exists()
        # Locked first, so a duplicate arriving now waits here for this one's commit, then meets its row.
        ticket = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        still = ticket.status != Ticket.Status.CLOSED and (
            why.startswith("names") or Ticket.objects.filter(_takes_replies(), pk=ticket.pk).exists())
        if not still:  # closed (or resolved too long ago) since it was chosen
            return _store_once(**row, status=Status.UNMATCHED, detail=f"{ticket.number} was closed meanwhile")[0]
        record, created = _store_once(**row, status=Status.ATTACHED, ticket=ticket, detail=f"{why}: {ticket.number}")
        if not created:
            return record  # a duplicate: the first post wrote the message
        try:
            with acting_as(_actor(ticket, form.sender)):
                message = tickets.customer_message(ticket, form.text)
        except ValidationError as refused:
            # Past the customer's pace (a phone texting in a loop): kept for staff to read among the
            # unmatched, but it neither lands in the thread nor wakes every staff page.
            record.status, record.ticket = Status.UNMATCHED, None
            record.detail = f"not added to {ticket.number}: {refused.messages[0]}"[:255]
            record.save(update_fields=["status", "ticket", "detail"])
            return record
        record.message = message
        record.save(update_fields=["message"])
    return record


def _store_once(**fields) -> tuple[InboundSms, bool]:
    """Insert the row (True), or, when its provider id is already stored, the row stored first
    (False). A concurrent insert of the same id waits on the unique index until that one commits."""
    provider_id = fields.get("provider_id", "")
    try:
        with transaction.atomic():
            return InboundSms.objects.create(**fields), True
    except IntegrityError:
        earlier = InboundSms.objects.filter(provider_id=provider_id).first() if provider_id else None
        if earlier is None:
            raise
        return earlier, False


def _tickets_of(phone: str):
    return Ticket.objects.filter(Q(customer__phone=phone) | Q(phone=phone))


def _takes_replies() -> Q:
    since = timezone.now() - timedelta(days=REPLY_WINDOW_DAYS)
    return Q(status__in=(Ticket.Status.OPEN, Ticket.Status.PENDING)) | Q(status=Ticket.Status.RESOLVED,
                                                                         resolved_at__gte=since)


def _actor(ticket: Ticket, phone: str) -> Actor:
    """The customer who wrote, as the audit trail names them. No address: the post comes from
    Africa's Talking's servers, not from the customer."""
    customer = ticket.customer if ticket.customer_id and ticket.customer.phone == phone else \
        Customer.objects.filter(phone=phone).first()
    return Actor.customer(customer) if customer is not None else Actor("customer", "", phone)


def _sender(value: str, provider_id: str) -> tuple[str, bool]:
    try:
        return normalise_phone(value), True
    except InvalidPhone:
        pass
    compact = re.sub(r"[\s\-().]", "", value)
    if ANY_PHONE.fullmatch(compact):
        return compact.lstrip("+"), False
    raise Refused(f"the sender {value[:30]!r} is not a phone number", provider_id)


def _readable(raw: bytes, most: int) -> str:
    """The start of a body as storable text: bytes that are not UTF-8 and NULs as escapes."""
    return raw[:most].decode("utf-8", "backslashreplace").replace("\x00", "\\x00")


def _forged_throttle() -> Throttle:
    return Throttle("sms-inbound-forged", FORGED_PER_ADDRESS, FORGED_WINDOW_SECONDS, FORGED_WINDOW_SECONDS)


def _forged_cap() -> Throttle:
    return Throttle("sms-inbound-forged-total", FORGED_IN_ALL, FORGED_WINDOW_SECONDS, FORGED_WINDOW_SECONDS)
