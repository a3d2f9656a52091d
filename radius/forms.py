"""The RADIUS pages' search boxes: what ``?q=`` matches on each list.

radacct and radpostauth grow by millions of rows, so their searches are exact matches, each served
by an index; the NAS and user lists are small enough for a prefix or substring.
"""
import ipaddress
from collections.abc import Callable

from django.db.models import Q

from lib.listing import SearchFilter


def _mac(q: str) -> str:
    """A MAC as routers report it in Calling-Station-Id (AA-BB-…), however it was typed."""
    return q.upper().replace(":", "-")


class NasSearch(SearchFilter):
    def search(self, devices, q):
        return devices.filter(Q(shortname__icontains=q) | Q(nasname__icontains=q) | Q(description__icontains=q))


class UserSearch(SearchFilter):
    def search(self, names, q):
        return names.filter(username__istartswith=q)


# radius knows user names only; hotspot registers how a phone number (typed any way) becomes its
# customers' user names, so the session and auth-log boxes find a caller by phone too.
_usernames_for_phone: Callable[[str], list[str]] | None = None


def register_phone_lookup(lookup: Callable[[str], list[str]] | None) -> None:
    global _usernames_for_phone
    _usernames_for_phone = lookup


def _by_phone(q: str) -> Q:
    usernames = _usernames_for_phone(q) if _usernames_for_phone else []
    return Q(username__in=usernames) if usernames else Q(pk__in=[])


def _is_ip(q: str) -> bool:
    try:
        ipaddress.ip_address(q)
    except ValueError:
        return False
    return True


def _by_username_first(rows, q: str, others: Q):
    """A user name is what these boxes are searched for most: when ``q`` is one, its rows alone, read
    newest first down the (username, time) index and stopping after a page; otherwise the other
    identifiers, each an index of its own (a BitmapOr; an OR with the user name beside them made
    PostgreSQL read every session of a busy user to sort them)."""
    mine = rows.filter(username=q)
    return mine if mine.exists() else rows.filter(others)


class SessionSearch(SearchFilter):
    """A user name, else a session id, a device (MAC, typed with ":" or "-"), a phone number, or an IP
    address (the session's or its router's): exact matches, each served by an index."""

    def search(self, sessions, q):
        others = Q(acct_session_id=q) | Q(calling_station_id=_mac(q)) | _by_phone(q)
        if _is_ip(q):
            others |= Q(framed_ip_address=q) | Q(nas_ip_address=q)
        return _by_username_first(sessions, q, others)


class AuthLogSearch(SearchFilter):
    """A user name, else a device (MAC) or a phone number: exact matches, each served by an index."""

    def search(self, entries, q):
        return _by_username_first(entries, q, Q(calling_station_id=_mac(q)) | _by_phone(q))
