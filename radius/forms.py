"""The RADIUS pages' search boxes: what ``?q=`` matches on each list.

radacct and radpostauth grow by millions of rows, so their searches are exact matches, each served
by an index; the NAS and user lists are small enough for a prefix or substring.
"""
import ipaddress

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


class SessionSearch(SearchFilter):
    def search(self, sessions, q):
        match = Q(username=q) | Q(acct_session_id=q) | Q(calling_station_id=_mac(q))
        try:
            ipaddress.ip_address(q)
        except ValueError:
            return sessions.filter(match)
        return sessions.filter(match | Q(framed_ip_address=q) | Q(nas_ip_address=q))


class AuthLogSearch(SearchFilter):
    def search(self, entries, q):
        return entries.filter(Q(username=q) | Q(calling_station_id=_mac(q)))
