"""The radius service API: who may connect, with which group policy, from which NAS.

Other apps grant, change and revoke access here; they never write the FreeRADIUS tables. Every
function rewrites the rows it owns for a username or group in one transaction, so calling it
twice leaves the same rows (idempotent), and concurrent calls for one username serialize.
"""
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from .models import Nas, NasCoaPort, RadCheck, RadGroupCheck, RadGroupReply, RadReply, RadUserGroup

# Check attributes this module owns for a user, and reply/check attributes for a group.
USER_CHECK = ("Cleartext-Password", "Expiration", "Simultaneous-Use", "Hotspot-Data-Limit",
              "Hotspot-Time-Limit", "Hotspot-Quota-Since")
# Reply attributes this module owns for a user: what a PPP (PPPoE) customer's session is given.
USER_REPLY = ("Service-Type", "Framed-Protocol", "Framed-Pool", "Framed-IP-Address")
GROUP_REPLY = ("Mikrotik-Rate-Limit", "Mikrotik-Total-Limit", "Mikrotik-Total-Limit-Gigawords",
               "Session-Timeout", "Idle-Timeout", "Acct-Interim-Interval", "Mikrotik-Address-List")
GROUP_CHECK = ("Simultaneous-Use", "Hotspot-Data-Limit", "Hotspot-Time-Limit", "Hotspot-Daily-Limit",
               "Hotspot-Fup-Rate", "Hotspot-Day-Zone")
GIGAWORD = 2**32
UNSET = object()


class RadiusError(ValueError):
    """A request the radius layer refuses (bad username, group, NAS address ...)."""


@dataclass(frozen=True)
class Limits:
    """Allowances that span sessions, counted by FreeRADIUS from ``since`` over radacct."""

    total_bytes: int | None = None
    total_seconds: int | None = None
    since: datetime | None = None


def _lock(key: str) -> None:
    # Two writers for one username would each delete, then both insert: serialize them.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"radius:{key}"])


def _clean(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 253 or any(ord(c) < 32 for c in name):
        raise RadiusError(f"{what} {name!r} is empty, too long or has control characters")
    return name


def _epoch(moment: datetime) -> str:
    # FreeRADIUS reads a bare number as seconds since the epoch: no time zone to get wrong.
    return str(int(moment.timestamp()))


def _user_checks(password, expires_at, simultaneous_use, limits) -> list[tuple[str, str]]:
    rows = [("Cleartext-Password", password)]
    # Usage always counts from a known moment: without it a group allowance would count every
    # session since the epoch, and a returning customer would start out of allowance.
    since = limits.since if limits is not None and limits.since is not None else timezone.now()
    rows.append(("Hotspot-Quota-Since", _epoch(since)))
    if expires_at is not None:
        rows.append(("Expiration", _epoch(expires_at)))
    if simultaneous_use:
        rows.append(("Simultaneous-Use", str(int(simultaneous_use))))
    if limits is not None:
        if limits.total_bytes is not None:
            rows.append(("Hotspot-Data-Limit", str(int(limits.total_bytes))))
        if limits.total_seconds is not None:
            rows.append(("Hotspot-Time-Limit", str(int(limits.total_seconds))))
    return rows


def _user_reply(reply) -> list[tuple[str, str]]:
    rows = [(attribute, str(value).strip()) for attribute, value in reply]
    for attribute, value in rows:
        if attribute not in USER_REPLY:
            raise RadiusError(f"{attribute} is not a reply attribute radius.services writes for a user")
        _clean(value, attribute)
    return rows


def grant_access(username: str, password: str, group: str, *, expires_at: datetime | None = None,
                 simultaneous_use: int | None = None, limits: Limits | None = None, reply=()) -> None:
    """Let ``username`` authenticate with ``password`` under ``group``'s policy until ``expires_at``.

    ``reply``: (attribute, value) pairs of USER_REPLY the user's Access-Accept carries besides the
    group's (a PPPoE customer's Service-Type, Framed-Protocol, Framed-Pool or Framed-IP-Address);
    those the user had and ``reply`` leaves out are removed."""
    username, group = _clean(username, "username"), _clean(group, "group")
    if not password:
        raise RadiusError("a password is required")
    checks = _user_checks(password, expires_at, simultaneous_use, limits)
    replies = _user_reply(reply)
    # No savepoint inside a caller's transaction (a payment's): nothing here is worth keeping
    # when the rest fails, and two round trips less on every purchase.
    with transaction.atomic(savepoint=False):
        _lock(username)
        if connection.vendor == "postgresql":
            # Every purchase comes through here: one statement rather than four.
            with connection.cursor() as cursor:
                cursor.execute(_REWRITE_USER, {"username": username, "owned": list(USER_CHECK), "group": group,
                                               "attributes": [a for a, _ in checks],
                                               "values": [v for _, v in checks],
                                               "owned_reply": list(USER_REPLY),
                                               "reply_attributes": [a for a, _ in replies],
                                               "reply_values": [v for _, v in replies]})
            return
        # SQLite (the quick start) has no data-modifying WITH: the same rows, one table at a time.
        RadCheck.objects.filter(username=username, attribute__in=USER_CHECK).delete()
        RadCheck.objects.bulk_create([RadCheck(username=username, attribute=a, op=":=", value=v) for a, v in checks])
        RadUserGroup.objects.filter(username=username).delete()
        RadUserGroup.objects.create(username=username, groupname=group, priority=1)
        RadReply.objects.filter(username=username, attribute__in=USER_REPLY).delete()
        RadReply.objects.bulk_create([RadReply(username=username, attribute=a, op=":=", value=v) for a, v in replies])


# The deletes and the inserts see one snapshot, so the new rows are never deleted; _lock has
# already made concurrent writers for the username wait (it must come first, in its own
# statement: a statement's snapshot is taken before it could wait).
_REWRITE_USER = """
WITH old_checks AS (DELETE FROM radcheck WHERE username = %(username)s AND attribute = ANY(%(owned)s)),
     old_groups AS (DELETE FROM radusergroup WHERE username = %(username)s),
     old_replies AS (DELETE FROM radreply WHERE username = %(username)s AND attribute = ANY(%(owned_reply)s)),
     new_checks AS (INSERT INTO radcheck (username, attribute, op, value)
                    SELECT %(username)s, attribute, ':=', value
                    FROM unnest(%(attributes)s::text[], %(values)s::text[]) AS t (attribute, value)),
     new_replies AS (INSERT INTO radreply (username, attribute, op, value)
                     SELECT %(username)s, attribute, ':=', value
                     FROM unnest(%(reply_attributes)s::text[], %(reply_values)s::text[]) AS t (attribute, value))
INSERT INTO radusergroup (username, groupname, priority) VALUES (%(username)s, %(group)s, 1)
"""


@transaction.atomic
def update_access(username: str, *, password=UNSET, group=UNSET, expires_at=UNSET,
                  simultaneous_use=UNSET, limits=UNSET, reply=UNSET) -> None:
    """Change some of what grant_access wrote; what is not passed stays as it is."""
    username = _clean(username, "username")
    _lock(username)
    current = {r.attribute: r.value for r in RadCheck.objects.filter(username=username, attribute__in=USER_CHECK)}
    if "Cleartext-Password" not in current:
        raise RadiusError(f"{username} has no access to update")
    membership = RadUserGroup.objects.filter(username=username).first()

    def keep(new, old):
        return old if new is UNSET else new

    grant_access(
        username,
        keep(password, current["Cleartext-Password"]),
        keep(group, membership.groupname if membership else ""),
        expires_at=keep(expires_at, _from_epoch(current.get("Expiration"))),
        simultaneous_use=keep(simultaneous_use, int(current["Simultaneous-Use"]) if "Simultaneous-Use" in current
                              else None),
        limits=keep(limits, _limits_from(current)),
        reply=keep(reply, list(RadReply.objects.filter(username=username, attribute__in=USER_REPLY)
                               .order_by("id").values_list("attribute", "value"))),
    )


def _from_epoch(value: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _limits_from(current: dict) -> Limits | None:
    if not any(k in current for k in ("Hotspot-Data-Limit", "Hotspot-Time-Limit", "Hotspot-Quota-Since")):
        return None
    return Limits(
        total_bytes=int(current["Hotspot-Data-Limit"]) if "Hotspot-Data-Limit" in current else None,
        total_seconds=int(current["Hotspot-Time-Limit"]) if "Hotspot-Time-Limit" in current else None,
        since=_from_epoch(current.get("Hotspot-Quota-Since")),
    )


@transaction.atomic(savepoint=False)
def revoke_access(username: str) -> bool:
    """Remove every row that lets ``username`` authenticate; the next Access-Request is rejected."""
    username = _clean(username, "username")
    _lock(username)
    return bool(revoke_access_many([username]))


@transaction.atomic(savepoint=False)
def revoke_access_many(usernames: list[str]) -> int:
    """revoke_access for a batch (an expiry sweep): three statements whatever the size.
    The caller holds the rows that decide these users' access (their customers), so no
    per-username lock is needed here."""
    if not usernames:
        return 0
    removed = RadCheck.objects.filter(username__in=usernames).delete()[0]
    removed += RadReply.objects.filter(username__in=usernames).delete()[0]
    removed += RadUserGroup.objects.filter(username__in=usernames).delete()[0]
    return removed


def has_access(username: str) -> bool:
    return RadCheck.objects.filter(username=username, attribute="Cleartext-Password").exists()


def access_of(username: str) -> dict:
    """What FreeRADIUS will see for ``username``: its check and reply rows and its groups."""
    return {
        "check": list(RadCheck.objects.filter(username=username).order_by("id")),
        "reply": list(RadReply.objects.filter(username=username).order_by("id")),
        "groups": list(RadUserGroup.objects.filter(username=username).values_list("groupname", flat=True)),
    }


@transaction.atomic
def set_group_policy(group: str, *, rate_limit: str | None = None, session_timeout: int | None = None,
                     idle_timeout: int | None = None, total_bytes: int | None = None,
                     total_seconds: int | None = None, shared_users: int | None = None,
                     interim_interval: int | None = 300, address_list: str | None = None,
                     daily_bytes: int | None = None, fup_rate: str | None = None, day_zone: str = "UTC") -> None:
    """Write a group's (a package's) policy: what every member's Access-Accept carries.

    ``daily_bytes``: an allowance per day, from midnight in ``day_zone``, on top of ``total_bytes``.
    ``fup_rate``: over either allowance the member is accepted at this rate instead of rejected
    (radius/raddb/policy.d/hotspot), so no cap on the session's bytes is sent either."""
    group = _clean(group, "group")
    _lock(f"group:{group}")
    reply = []
    if rate_limit:
        reply.append(("Mikrotik-Rate-Limit", rate_limit.strip()))
    if total_bytes and not fup_rate:
        # Per-session cap for routers alone; the quota policy replaces it with what remains.
        reply.append(("Mikrotik-Total-Limit", str(int(total_bytes) % GIGAWORD)))
        reply.append(("Mikrotik-Total-Limit-Gigawords", str(int(total_bytes) // GIGAWORD)))
    for attribute, value in (("Session-Timeout", session_timeout), ("Idle-Timeout", idle_timeout),
                             ("Acct-Interim-Interval", interim_interval)):
        if value:
            reply.append((attribute, str(int(value))))
    if address_list:
        reply.append(("Mikrotik-Address-List", address_list.strip()))
    check = []
    if shared_users:
        check.append(("Simultaneous-Use", str(int(shared_users))))
    if total_bytes:
        check.append(("Hotspot-Data-Limit", str(int(total_bytes))))
    if total_seconds:
        check.append(("Hotspot-Time-Limit", str(int(total_seconds))))
    if daily_bytes:
        check.append(("Hotspot-Daily-Limit", str(int(daily_bytes))))
        check.append(("Hotspot-Day-Zone", _clean(day_zone, "time zone")))
    if fup_rate and (total_bytes or daily_bytes):
        check.append(("Hotspot-Fup-Rate", fup_rate.strip()))
    RadGroupReply.objects.filter(groupname=group, attribute__in=GROUP_REPLY).delete()
    RadGroupReply.objects.bulk_create([RadGroupReply(groupname=group, attribute=a, op=":=", value=v) for a, v in reply])
    RadGroupCheck.objects.filter(groupname=group, attribute__in=GROUP_CHECK).delete()
    RadGroupCheck.objects.bulk_create([RadGroupCheck(groupname=group, attribute=a, op=":=", value=v) for a, v in check])


@transaction.atomic
def delete_group_policy(group: str) -> None:
    RadGroupReply.objects.filter(groupname=group).delete()
    RadGroupCheck.objects.filter(groupname=group).delete()


@transaction.atomic
def register_nas(address: str, secret: str, shortname: str, *, type: str = "other",
                 description: str = "", coa_port: int = 3799) -> Nas:
    """Make ``address`` a RADIUS client. FreeRADIUS reads clients at start: restart it after.

    The type stays "other": any other type makes FreeRADIUS run checkrad against the router when
    Simultaneous-Use is reached, and checkrad cannot ask a RouterOS 7 router (it then deletes the
    very session it should count). Open sessions are kept true by accounting and our jobs instead.
    """
    import ipaddress

    try:
        address = str(ipaddress.ip_address(address.strip()))
    except ValueError:
        raise RadiusError(f"{address!r} is not an IP address") from None
    if len(secret or "") < 8:
        raise RadiusError("a RADIUS secret needs at least 8 characters")
    # The unique nasname makes this safe against a concurrent writer: the loser's insert fails
    # and update_or_create then updates the winner's row.
    nas, _ = Nas.objects.update_or_create(
        nasname=address, defaults={"shortname": _clean(shortname, "name"), "type": type,
                                   "secret": secret, "description": description})
    NasCoaPort.objects.update_or_create(nas=nas, defaults={"port": coa_port})
    return nas


def hold_nas_address(address: str) -> None:
    """Hold ``address`` until the transaction ends: a writer checks who else uses it before it
    registers, and two writers checking at once would both find it free."""
    _lock(f"nas:{address}")


@transaction.atomic
def unregister_nas(address: str) -> bool:
    return bool(Nas.objects.filter(nasname=address).delete()[0])
