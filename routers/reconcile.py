"""Making one menu of a router hold what we want, for provisioning's steps (and drift's dry runs).

``ensure_items`` keeps our items of a menu (found by their ``TAG`` comment) exactly as wanted: adds,
sets, removes, then reads back, since a router can accept a write and not apply it.
``ensure_properties`` sets properties of an item the router already has. A router's refusal becomes
``StepFailed`` in its own words; in a dry run (``Context.dry_run``) nothing is written and each
change is noted as "would add …".
"""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from .models import Router
from .routeros import RouterClient, RouterError, parse_duration
from .tags import SCOPED, TAG

# Values RouterOS prints differently from how they are written.
_BOOLEAN = {"yes": "true", "no": "false"}
_DURATIONS = {"radius-interim-update", "timeout", "interim-update", "lease-time"}
# Comma lists RouterOS may print in its own order.
_SETS = {"login-by", "authentication", "service"}


class StepFailed(Exception):
    """A step could not make the router match: ``message`` is the router's words or ours;
    ``field``, when the fix is one of the router's own fields (its edit page links to it)."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


class StepSkipped(Exception):
    """The step cannot be done over the API on this router; ``message`` says what to do by hand."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_WOULD = {"added": "add", "set": "set", "removed": "remove", "wrote": "write", "rewrote": "rewrite",
          "updated": "update"}


@dataclass
class Context:
    router: Router
    client: RouterClient
    changes: list[str]  # what the step wrote (or, in a dry run, would write), for its message
    # Check only (drift, test_provisioning): read the router and record what would change, write nothing.
    dry_run: bool = False
    # In a run, when its services steps read the router's services (routers.service_provisioning):
    # a row changed after it was not applied by this run.
    services_read_at: datetime | None = None

    def change(self, done: str, what: str) -> None:
        """Note a change: ``done`` is the past-tense verb ("added"), said "would add" in a dry run."""
        self.changes.append(f"would {_WOULD[done]} {what}" if self.dry_run else f"{done} {what}")



def _normal(key: str, value) -> str:
    value = str(value)
    if key in _SETS:
        return ",".join(sorted(filter(None, value.split(","))))
    if key in _DURATIONS and value and value[0].isdigit():
        return str(parse_duration(value))
    return _BOOLEAN.get(value.lower(), value)


def _differences(want: dict, have: dict) -> dict:
    return {key: value for key, value in want.items() if _normal(key, value) != _normal(key, have.get(key, ""))}


@contextmanager
def asking(command: str):
    """A router's refusal (or loss) inside becomes the step's failure, in the router's words."""
    try:
        yield
    except RouterError as error:
        raise StepFailed(f"{command}: {error.message}") from None


def ensure_items(ctx: Context, menu: str, desired: dict[str, dict], *, before_others: bool = False,
                 scope: str | None = None) -> None:
    """Make our items of ``menu`` (comment = a key of ``desired``) exactly ``desired``: add, set,
    remove ours that are no longer wanted, and read back. ``before_others`` places new items ahead
    of the router's own (firewall rules are matched in order). ``scope``: ours are only the items
    whose comment starts with it (one router service's); without it, ours are the tagged items no
    scope owns (routers.tags.SCOPED)."""
    client = ctx.client

    def mine(comment: str) -> bool:
        if scope is not None:
            return comment.startswith(scope)
        return comment.startswith(TAG) and not comment.startswith(SCOPED)

    def ours(rows: list[dict]) -> dict[str, dict]:
        return {row["comment"]: row for row in rows if mine(row.get("comment", ""))}

    with asking(f"{menu}/print"):
        rows = client.print(menu)
    have = ours(rows)
    for comment in [comment for comment in have if comment not in desired]:
        if not ctx.dry_run:
            with asking(f"{menu}/remove"):
                client.remove(menu, have[comment]["id"])
        ctx.change("removed", f"{menu} {comment!r}")
    missing = False
    for comment, props in desired.items():
        if comment in have:
            changed = _differences(props, have[comment])
            if changed:
                if not ctx.dry_run:
                    with asking(f"{menu}/set"):
                        client.set(menu, have[comment]["id"], **changed)
                ctx.change("set", f"{menu} {comment!r}: {', '.join(sorted(changed))}")
            continue
        missing = True
        if ctx.dry_run:
            ctx.change("added", f"{menu} {comment!r}")
            continue
        extra = {}
        if before_others:
            others = [row["id"] for row in rows if not row.get("comment", "").startswith(TAG)
                      and row.get("dynamic") != "true"]
            if others:
                extra["place-before"] = others[0]
        with asking(f"{menu}/add"):
            client.add(menu, **props, comment=comment, **extra)
        ctx.change("added", f"{menu} {comment!r}")
    if ctx.dry_run:
        # Nothing was written to read back; only an order a run could not fix is worth reporting.
        if before_others and not missing:
            _check_order(menu, have, desired)
        return
    with asking(f"{menu}/print"):
        have = ours(client.print(menu))
    for comment, props in desired.items():
        if comment not in have:
            raise StepFailed(f"{menu}: {comment!r} was added but the router does not show it")
        changed = _differences(props, have[comment])
        if changed:
            raise StepFailed(f"{menu}: {comment!r} still differs after writing ({', '.join(sorted(changed))})")
    if before_others:
        _check_order(menu, have, desired)


def _check_order(menu: str, have: dict[str, dict], desired: dict[str, dict]) -> None:
    order = [comment for comment in have if comment in desired]
    if order != list(desired):
        raise StepFailed(f"{menu}: our rules are out of order ({', '.join(order)})")


def ensure_properties(ctx: Context, menu: str, item_id: str | None, want: dict, label: str) -> None:
    """Set properties of an item the router already has (``item_id`` None: a one-item menu)."""
    client = ctx.client

    def current() -> dict:
        with asking(f"{menu}/print"):
            rows = client.print(menu)
        found = rows if item_id is None else [row for row in rows if row.get("id") == item_id]
        if not found:
            raise StepFailed(f"{menu}: {label} is gone")
        return found[0]

    changed = _differences(want, current())
    if changed:
        ctx.change("set", f"{menu} {label}: {', '.join(sorted(changed))}")
        if ctx.dry_run:
            return
        with asking(f"{menu}/set"):
            client.set(menu, item_id, **changed)
        still = _differences(want, current())
        if still:
            raise StepFailed(f"{menu}: {label} did not take {', '.join(sorted(still))}")
