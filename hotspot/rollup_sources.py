"""Who a RADIUS row belongs to, for the report rollups: the router behind a NAS address, the customer
behind a username and the package they were on at a moment. Read in bulk, one query each."""
import bisect
import re
from collections import defaultdict
from datetime import datetime

from django.db.models import F

from lib import bulk_rows
from lib.any_of import AnyOf
from radius.models import Nas
from routers.models import Router

from .models import Customer, Subscription

ROUTER_OWNER = re.compile(r"router (\d+)")


def router_by_address() -> dict[str, int]:
    """NAS address -> router id: each router's host, and every NAS row a router owns (its description
    "router <id>", as routers.services writes it, e.g. the WireGuard tunnel's address)."""
    found = {}
    for nasname, description in Nas.objects.values_list("nasname", "description"):
        if owner := ROUTER_OWNER.fullmatch(description or ""):
            found[nasname] = int(owner[1])
    known = set(Router.objects.values_list("pk", flat=True))
    found = {address: pk for address, pk in found.items() if pk in known}
    for pk, host in Router.objects.values_list("pk", "host"):
        found.setdefault(host, pk)
    return found


class Owners:
    """Customers and their subscriptions' starts for a set of usernames, loaded once."""

    def __init__(self, usernames):
        usernames = {u for u in usernames if u}
        self.customer: dict[str, int] = {}
        for chunk in _chunks(sorted(usernames), 5000):
            self.customer.update(Customer.objects.filter(username__any_of=chunk).values_list("username", "pk"))
        self._starts: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        self._running: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        ids = sorted(set(self.customer.values()))
        for chunk in _chunks(ids, 5000):
            for customer, package, starts, expires, grace in bulk_rows.fetch(
                    Subscription.objects.filter(AnyOf(F("customer_id"), chunk))
                    .values_list("customer", "package", "starts_at", "expires_at", "grace_until")):
                self._starts[customer].append((starts, package))
                self._running[customer].append((starts, max(expires, grace or expires)))
        for runs in self._starts.values():
            runs.sort()

    def customer_id(self, username: str | None) -> int | None:
        return self.customer.get(username or "")

    def package_id(self, username: str | None, at: datetime) -> int | None:
        """The package of the subscription latest started at or before ``at``; if every one started
        later (a queued subscription moved its start), the customer's first."""
        runs = self._starts.get(self.customer_id(username))
        if not runs:
            return None
        index = bisect.bisect_right(runs, (at, float("inf"))) - 1
        return runs[max(index, 0)][1]

    def had_package_running(self, username: str | None, at: datetime) -> bool:
        return any(start <= at < end for start, end in self._running.get(self.customer_id(username), ()))


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
