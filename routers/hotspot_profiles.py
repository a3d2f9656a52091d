"""The hotspot user profiles on a router (/ip/hotspot/user/profile): read them, and keep one of ours.

Operators who also give out the router's own local hotspot users pick one of these profiles for
each; ours carry a package's rate limit, shared users and session timeout (hotspot.profiles maps a
package onto one). RouterOS gives these profiles no comment to carry our tag, so ours are marked in
their name, which ends in ``[<key>]`` (e.g. "Daily 5M [pkg-12]": readable where the operator picks a
profile, and the key is the package's RADIUS group): a renamed package renames its profile instead of
leaving the old one behind, and the operator's own profiles, whatever their names, are never touched.
Each change is a ServiceControlLog row (failures too) and an audit entry on the router.
"""
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .models import Router, ServiceControlLog
from .routeros import RouterClient, RouterError, parse_duration
from .services import client_for, log_action

MENU = "/ip/hotspot/user/profile"
PUSH_WORKERS = 16
CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


@dataclass(frozen=True)
class Wanted:
    """One of our profiles as it should be on every router."""

    key: str  # what marks it ours, at the end of its name, e.g. "pkg-12"
    label: str  # the rest of its name, e.g. the package's
    rate_limit: str = ""
    shared_users: int = 1
    session_timeout: int | None = None  # seconds; None: no limit

    @property
    def marker(self) -> str:
        return f"[{self.key}]"

    @property
    def name(self) -> str:
        return f"{self.label} {self.marker}"

    def properties(self) -> dict:
        return {"name": self.name, "rate-limit": self.rate_limit, "shared-users": str(self.shared_users),
                "session-timeout": duration(self.session_timeout) if self.session_timeout else ""}


@dataclass
class Pushed:
    router: Router
    outcome: str
    detail: str = ""
    reason: str = ""  # for a failure: unreachable | auth_failed | refused | secret_unreadable


def duration(seconds: int) -> str:
    """Seconds as RouterOS writes a duration, e.g. 4w2d, 1d, 1h30m."""
    parts, left = [], int(seconds)
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


MARKED = re.compile(r" \[([a-z]+-\d+)\]$")


def profile_row(row: dict) -> dict:
    """A router's profile as the API shows it; ``key`` is the marker of ours, None for the operator's."""
    name, timeout = row.get("name", ""), row.get("session-timeout", "")
    marked = MARKED.search(name)
    return {"id": row.get("id", ""), "name": name, "rate_limit": row.get("rate-limit", ""),
            "shared_users": int(row["shared-users"]) if str(row.get("shared-users", "")).isdigit() else None,
            "session_timeout": parse_duration(timeout) if timeout and timeout != "none" else None,
            "default": row.get("default") == "true", "key": marked.group(1) if marked else None}


def read(router: Router) -> list[dict]:
    """The router's hotspot user profiles (a RouterError when it cannot be asked)."""
    with client_for(router) as client:
        return [profile_row(row) for row in client.print(MENU)]


def _same(have: dict, want: dict) -> bool:
    for key, value in want.items():
        current = have.get(key, "")
        if key == "session-timeout":
            if parse_duration(current if current != "none" else "") != parse_duration(value):
                return False
        elif str(current) != str(value):
            return False
    return True


def _is(row: dict, wanted: Wanted) -> bool:
    return row.get("name", "").endswith(" " + wanted.marker)


def _ensure(client: RouterClient, wanted: Wanted) -> str:
    ours = next((row for row in client.print(MENU) if _is(row, wanted)), None)
    want = wanted.properties()
    if ours is None:
        client.add(MENU, **want)
        done = CREATED
    elif _same(ours, want):
        return UNCHANGED
    else:
        client.set(MENU, ours["id"], **want)
        done = UPDATED
    # Read back: a router can accept a write and not apply it.
    after = next((row for row in client.print(MENU) if _is(row, wanted)), None)
    if after is None or not _same(after, want):
        raise RouterError(f"the router accepted profile {wanted.name!r} but does not show it as written")
    return done


def _attempt(router: Router, wanted: Wanted) -> Pushed:
    """Talk to the router only (no database): safe in a worker thread."""
    try:
        with client_for(router) as client:
            return Pushed(router, _ensure(client, wanted))
    except RouterError as error:
        return Pushed(router, FAILED, error.message, error.reason)


def _log(result: Pushed, wanted: Wanted, by) -> None:
    if result.outcome == FAILED:
        log_action(result.router, by, "hotspot_profile", ServiceControlLog.Outcome.FAILED,
                   f"{wanted.name}: {result.reason}: {result.detail}")
    elif result.outcome != UNCHANGED:
        log_action(result.router, by, "hotspot_profile", ServiceControlLog.Outcome.OK,
                   f"{result.outcome} hotspot user profile {wanted.name}", audit=f"profile_{result.outcome}")


def push(router: Router, wanted: Wanted, by=None) -> Pushed:
    """Make ``router`` hold ``wanted``; the router's failures are the result, never raised."""
    return push_many([router], wanted, by)[0]


def push_many(routers: list[Router], wanted: Wanted, by=None) -> list[Pushed]:
    """``push`` to each router in parallel (a dead router costs its own timeout), results in their
    order; the log rows and audit entries are written afterwards, in the caller's thread."""
    if not routers:
        return []
    with ThreadPoolExecutor(max_workers=min(PUSH_WORKERS, len(routers))) as pool:
        results = list(pool.map(lambda router: _attempt(router, wanted), routers))
    for result in results:
        _log(result, wanted, by)
    return results
