"""Who is online right now across every router: the routers' own active lists (routers.active_sessions,
asked in parallel within a bound) merged with what billing knows of each user name: the customer,
the package of their running plan, and their open accounting session (radacct), which is what a
Disconnect-Request names.

Rows come from the routers, not from radacct: a session FreeRADIUS never heard of (a local user, a
lost accounting Start) still shows, and a stale radacct row of a session the router has ended does
not. A router that did not answer is listed apart, with why (the first SILENT_LISTED by name, the
rest counted by reason).
"""
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import timezone

from radius import coa
from radius.models import CoaAttempt, RadAcct
from routers import actions, active_sessions
from routers.models import Router

from .models import Customer, PackageKind, Subscription

# A fleet with hundreds of dead routers: the page names this many and counts the rest by reason.
SILENT_LISTED = 20


class Session(dict):
    """One session as the page lists it: the router's fields (active_sessions) plus ``router_id``
    and ``router`` (its name); ``pk`` tells it from every other session online."""

    @property
    def pk(self) -> tuple:
        return self["router_id"], self["kind"], self["id"]


@dataclass
class Online:
    rows: list[dict]
    readings: list[active_sessions.Reading]
    totals: dict = field(default_factory=dict)

    @cached_property
    def silent(self) -> list[active_sessions.Reading]:
        return [reading for reading in self.readings if not reading.ok]

    @property
    def silent_listed(self) -> list[active_sessions.Reading]:
        """The first SILENT_LISTED of them, which the page names (the rest it counts)."""
        return self.silent[:SILENT_LISTED]

    @property
    def silent_more(self) -> int:
        return max(0, len(self.silent) - SILENT_LISTED)

    @property
    def silent_reasons(self) -> list[tuple[str, int]]:
        """(reason, how many routers) of the silent ones, most first."""
        return Counter(reading.reason for reading in self.silent).most_common()


def online(routers=None, *, kind: str = "", package_id: int | None = None, q: str = "") -> Online:
    """Every session on ``routers`` (default: every router not being provisioned), narrowed by
    service ``kind`` (hotspot|pppoe), the ``package_id`` of the user's running plan and ``q`` (part
    of a user name, an address or a MAC). Each row a Session; ``customer`` and ``package`` are
    filled for the package filter, or by ``describe``."""
    routers = routers if routers is not None else Router.objects.exclude(status=Router.Status.PROVISIONING)
    readings = active_sessions.read_all(routers.order_by("name", "pk"))
    rows = [Session(session, router_id=reading.router_id, router=reading.name)
            for reading in readings if reading.ok for session in reading.sessions]
    if kind:
        rows = [row for row in rows if row["kind"] == kind]
    if q := q.strip().lower():
        rows = [row for row in rows if q in row["user"].lower() or q in row["address"]
                or q in row["mac_address"].lower()]
    if package_id is not None:
        describe(rows, radacct=False)
        rows = [row for row in rows if row["package"] is not None and row["package"].pk == package_id]
    totals = {
        "online": len(rows), "hotspot": sum(row["kind"] == active_sessions.HOTSPOT for row in rows),
        "pppoe": sum(row["kind"] == active_sessions.PPPOE for row in rows),
        "down_bps": sum(row["down_bps"] or 0 for row in rows), "up_bps": sum(row["up_bps"] or 0 for row in rows),
        "routers": len(readings), "answered": sum(reading.ok for reading in readings),
    }
    return Online(rows, readings, totals)


def describe(rows: list[dict], *, radacct: bool = True) -> None:
    """Fill ``customer``, ``package`` (their running plan's) and, with ``radacct``, ``session``
    (the open accounting session this row is, when FreeRADIUS has it) on each row: a query each,
    whatever the number of rows. Rows already described are left alone."""
    todo = [row for row in rows if "customer" not in row]
    names = {row["user"] for row in todo if row["user"]}
    customers = {c.username: c for c in Customer.objects.filter(username__in=names)
                 .only("pk", "username", "name", "phone", "service_type")} if names else {}
    plans = {}
    if customers:
        running = (Subscription.objects.active(timezone.now()).filter(customer__in=list(customers.values()))
                   .exclude(package__kind=PackageKind.BOOST).select_related("package").order_by("-expires_at"))
        for subscription in running:
            plans.setdefault(subscription.customer_id, subscription.package)
    for row in todo:
        customer = customers.get(row["user"])
        row["customer"] = customer
        row["package"] = plans.get(customer.pk) if customer else None
    if radacct:
        _match_sessions([row for row in rows if "session" not in row])


def _match_sessions(rows: list[dict]) -> None:
    """The open radacct row of each session: same user name and address when FreeRADIUS has the
    address, else the user's newest open one (partial index radacct_open_user_idx)."""
    names = {row["user"] for row in rows if row["user"]}
    found: dict[str, list[RadAcct]] = {}
    if names:
        for session in (RadAcct.objects.open().filter(username__in=names).order_by("-acct_start_time")
                        .only("id", "username", "nas_ip_address", "framed_ip_address", "acct_session_id",
                              "acct_start_time", "acct_stop_time")):
            found.setdefault(session.username, []).append(session)
    for row in rows:
        candidates = found.get(row["user"], [])
        row["session"] = next((s for s in candidates if s.framed_ip_address == row["address"]),
                              next((s for s in candidates if not s.framed_ip_address), None))


def find(router: Router, kind: str, session_id: str, user: str) -> dict | None:
    """One session on ``router`` as the live page shows it (its cached reading, else asked now),
    described; None when the router no longer lists it or did not answer."""
    reading = active_sessions.read_all(Router.objects.filter(pk=router.pk))[0]
    row = next((Session(session, router_id=router.pk, router=router.name) for session in reading.sessions
                if session["kind"] == kind and session["id"] == session_id and session["user"] == user), None)
    if row is not None:
        describe([row])
    return row


@dataclass
class Ended:
    """What Disconnect did: ``how`` is "coa" (FreeRADIUS's session, RFC 5176, with the RouterOS
    fallback when the router did not acknowledge), "api" (removed from the router's active list),
    or "gone" (the router no longer lists it); ``ended``: whether the session is over now."""

    how: str
    ended: bool
    detail: str = ""


def disconnect(router: Router, *, kind: str, session_id: str, user: str, by) -> Ended:
    """End one session the live page shows. Raises routers.actions.InvalidAction for a bad kind or
    id and RouterError when the router cannot be asked (the API path)."""
    if kind not in actions.KINDS or not session_id:
        raise actions.InvalidAction("give the session's kind (hotspot or pppoe) and its router id")
    row = find(router, kind, session_id, user)
    try:
        if row is None:
            return Ended("gone", True)
        if row["session"] is not None:
            attempt = coa.disconnect(row["session"], requested_by=getattr(by, "username", "") or "staff")
            how = "coa" if attempt.outcome == CoaAttempt.Outcome.ACK else "coa-fallback"
            return Ended(how, attempt.ended, attempt.detail)
        removed = actions.kick(router, kind=kind, session_id=session_id, by=by)
        return Ended("api" if removed else "gone", True)
    finally:
        active_sessions.forget(router.pk)
