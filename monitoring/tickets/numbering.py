"""Ticket numbers: T-<year>-<five or more digits>, a sequence per year, never handed out twice.

The year's counter row is bumped by one upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING), in the
caller's transaction: concurrent openings queue on that row for the instant of their commit, each
gets the next number, and a rolled-back opening gives its number back with its row lock, so
numbers have no holes made by refused input (a crash between allocating and committing cannot
leave a number in use: both are one transaction)."""
from django.db import connection, transaction
from django.utils import timezone

from ..models import TicketCounter

PREFIX = "T"


def next_number(moment=None) -> str:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that saves the ticket")
    year = timezone.localtime(moment or timezone.now()).year
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last) VALUES (%s, 1) "  # noqa: S608 - the table name is ours
            f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + 1 RETURNING last", [year])
        (last,) = cursor.fetchone()
    return f"{PREFIX}-{year}-{last:05d}"
