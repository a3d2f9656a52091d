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


class SessionSearch(SearchFilter):
    def search(self, sessions, q):
        match = Q(username=q) | Q(acct_session_id=q) | Q(calling_station_id=_mac(q)) | _by_phone(q)
        try:
            ipaddress.ip_address(q)
        except ValueError:
            return sessions.filter(match)
        return sessions.filter(match | Q(framed_ip_address=q) | Q(nas_ip_address=q))


class AuthLogSearch(SearchFilter):
    def search(self, entries, q):
        return entries.filter(Q(username=q) | Q(calling_station_id=_mac(q)) | _by_phone(q))
