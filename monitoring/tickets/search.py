"""The ticket search box (/tickets/?q=, GET /api/tickets?q=): what a person types, matched so that each
kind of text reaches its rows through an index at 200,000 tickets (bench/tickets.py).

- A ticket number (T-2026-00042, t-2026-42, 2026-42): that number only, through its unique index.
- A whole phone number in any form people type it (0712 345 678, +254712…): the walk-in's phone or
  the ticket's customer's.
- Anything else: words of the subject, and when it holds 3+ digits, a run of them in either phone.

The customers a phone names are looked up first and the tickets matched by their ids: an OR across
the customer join cannot use an index on either side (the whole table was joined, then filtered),
while an OR of columns of the ticket table becomes one bitmap of several indexes (migration 0009:
trigram indexes on UPPER(subject) and on phone)."""
import re

from django.db.models import Q, QuerySet

from hotspot.models import Customer
from hotspot.phone import InvalidPhone, normalise_phone

NUMBER = re.compile(r"(?:T-?(\d{4})-?|(\d{4})-)(\d{1,9})", re.ASCII | re.IGNORECASE)
# Customers matched by a run of digits, looked up by id; a run as vague as "254" matches them all,
# and then the tickets are matched through the join instead (slower, still complete).
MOST_CUSTOMERS = 500


def ticket_number(typed: str) -> str | None:
    """The ticket number ``typed`` names, as numbering writes it (T-2026-00042), or None."""
    found = NUMBER.fullmatch(typed.strip())
    if found is None:
        return None
    year = found.group(1) or found.group(2)
    return f"T-{year}-{int(found.group(3)):05d}"


def search(tickets: QuerySet, typed: str) -> QuerySet:
    """``tickets`` narrowed to those ``typed`` finds (one query more for a phone or digits)."""
    typed = typed.strip()
    number = ticket_number(typed)
    if number is not None:
        return tickets.filter(number=number)
    try:
        phone = normalise_phone(typed)
    except InvalidPhone:
        phone = None
    if phone is not None:
        return tickets.filter(Q(phone=phone) | _of_customers(Q(phone=phone)))
    found = Q(subject__icontains=typed)
    digits = "".join(c for c in typed if c in "0123456789").lstrip("0")  # 0712… is stored 254712…
    if len(digits) >= 3:
        found |= Q(phone__contains=digits) | _of_customers(Q(phone__contains=digits))
    return tickets.filter(found)


def _of_customers(phones: Q) -> Q:
    ids = list(Customer.objects.filter(phones).order_by().values_list("pk", flat=True)[:MOST_CUSTOMERS + 1])
    if len(ids) > MOST_CUSTOMERS:
        return Q(customer__in=Customer.objects.filter(phones))
    return Q(customer_id__in=ids)

