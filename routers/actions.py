"""What staff do to a live router over its API: backup, restore, reboot, read its log and live stats,
and end hotspot/PPPoE sessions (also the fallback when a RADIUS Disconnect is not acknowledged).

Each call opens its own connection (routers.services.client_for: timeouts, the unreadable-secret
check) and raises a routers.routeros.RouterError on failure. Changes are written to
ServiceControlLog, failed attempts too, and those done to the audit trail (one entry each, in the
same transaction as the log row); reads (logs, stats) change nothing and are not logged.
Permissions are checked by the callers (API, pages); a reboot or restore is only requested here and
confirmed by polling (routers.polling) when the router answers again with a fresh uptime.
"""
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from lib.whole_numbers import ascii_whole_number
from radius import coa

from . import traffic
from .models import Router, RouterBackup, ServiceControlLog
from .routeros import RouterClient, RouterCommandRefused, RouterError
from .services import client_for, log_action
from .tags import TAG

KINDS = ("hotspot", "pppoe")
MAX_LOG_LINES = 1000
# RouterOS keeps 1000 memory log lines by default and at most 65535: filtering by topic reads them all.
ROUTER_LOG_CAPACITY = 65535
# Dynamic per-session interfaces (<pppoe-name>…): they belong to the PPP users, not the port list.
SESSION_INTERFACE_TYPES = ("pppoe-in", "pptp-in", "l2tp-in", "sstp-in", "ovpn-in")
FILE_READ_TRIES, FILE_READ_PAUSE = 5, 0.2
FALLBACK_WORKERS = 16


class InvalidAction(ValueError):
    """A request an action cannot take (unknown kind, neither user nor session, a bad limit)."""


@contextmanager
def _logged(router: Router, by, action: str):
    """A RouterError inside is logged as the action's failure, then raised."""
    try:
        yield
    except RouterError as error:
        log_action(router, by, action, ServiceControlLog.Outcome.FAILED, f"{error.reason}: {error.message}")
        raise


def _user(by):
    return by if by is not None and getattr(by, "pk", None) else None


# --- backup, restore, reboot ------------------------------------------------------------------------

def backup(router: Router, by) -> RouterBackup:
    """Save a backup on the router's flash and record it with the size the router reports."""
    name = _backup_name(router)
    with _logged(router, by, "backup"):
        with client_for(router) as client:
            filename = client.backup(name)
            path, size = _saved_file(client, filename)
    with transaction.atomic():
        record = RouterBackup.objects.create(router=router, name=path.removesuffix(".backup"), size=size,
                                             created_by=_user(by))
        log_action(router, by, "backup", ServiceControlLog.Outcome.OK, f"{path}, {size} bytes", audit="backed_up")
    return record


def _backup_name(router: Router) -> str:
    """hotspot-billing-YYYYmmdd-HHMMSS (Nairobi time, as staff read it); a suffix when two land in
    the same second, so one never overwrites the other's file."""
    base = f"{TAG}-{timezone.localtime():%Y%m%d-%H%M%S}"
    taken = set(RouterBackup.objects.filter(router=router, name__contains=base).values_list("name", flat=True))
    name, n = base, 1
    while any(existing == name or existing.endswith("/" + name) for existing in taken):
        n += 1
        name = f"{base}-{n}"
    return name


def _saved_file(client: RouterClient, filename: str) -> tuple[str, int]:
    """The saved file's path and size. Routers with a flash/ folder put it there; some list a new
    file a moment after the save returns, so it is looked for a few times."""
    for attempt in range(FILE_READ_TRIES):
        for row in client.print("/file"):
            path = row.get("name", "")
            if path == filename or path.endswith("/" + filename):
                try:
                    return path, int(row.get("size", "0").replace(" ", ""))
                except ValueError:  # RouterOS 6 prints "24.1KiB"-style sizes on some boards
                    return path, 0
        if attempt < FILE_READ_TRIES - 1:
            time.sleep(FILE_READ_PAUSE)
    raise RouterCommandRefused(f"the backup was saved but the router lists no file {filename}",
                               host=client.host, command="/file/print")


def restore(backup: RouterBackup, by) -> None:
    """Load ``backup`` on its router, which then reboots: tracked like a reboot (reboot_requested_at)."""
    router = backup.router
    requested = timezone.now()  # before the command: the router may be back before we write it
    with _logged(router, by, "restore"):
        with client_for(router) as client:
            client.restore(backup.name)
    with transaction.atomic():
        RouterBackup.objects.filter(pk=backup.pk).update(restored_at=requested)
        Router.objects.filter(pk=router.pk).update(reboot_requested_at=requested)
        log_action(router, by, "restore", ServiceControlLog.Outcome.OK,
                   f"loaded {backup.name}.backup; the router reboots", audit="restored")
    backup.restored_at = router.reboot_requested_at = requested


def reboot(router: Router, by) -> None:
    """Ask the router to reboot. The dropped connection is the expected answer; the status stays
    until polling sees the router again (then ``reboot_requested_at`` is cleared and "back after"
    logged), or marks it offline if it does not come back."""
    requested = timezone.now()
    with _logged(router, by, "reboot"):
        with client_for(router) as client:
            client.reboot()
    with transaction.atomic():
        Router.objects.filter(pk=router.pk).update(reboot_requested_at=requested)
        log_action(router, by, "reboot", ServiceControlLog.Outcome.OK, "reboot requested", audit="rebooted")
    router.reboot_requested_at = requested


# --- reading the router ------------------------------------------------------------------------------

def logs(router: Router, limit: int = 100, topics: str | Iterable[str] | None = None) -> list[dict]:
    """The newest ``limit`` lines of the router's log, oldest first; with ``topics`` ("hotspot,error"
    or a list) only lines carrying at least one of them."""
    if not 1 <= limit <= MAX_LOG_LINES:
        raise InvalidAction(f"limit must be 1..{MAX_LOG_LINES}")
    if isinstance(topics, str):
        topics = topics.split(",")
    wanted = {topic.strip().lower() for topic in topics or () if topic.strip()}
    with client_for(router) as client:
        lines = client.logs(limit=ROUTER_LOG_CAPACITY if wanted else limit)
    if wanted:
        lines = [line for line in lines if wanted & set(line["topics"].lower().split(","))]
    return lines[-limit:]


def stats(router: Router) -> dict:
    """Live figures, read now: resources, each port's counters and rates, and who is logged in."""
    with client_for(router) as client:
        resource = client.resource()
        interfaces = client.interfaces()
        ports = [row for row in interfaces if row["type"] not in SESSION_INTERFACE_TYPES]
        rates = traffic.rates(client, ports)
        hotspot = client.hotspot_active()
        ppp = client.ppp_active()
    total, free = resource["total_memory"], resource["free_memory"]
    by_name = {row["name"]: row for row in interfaces}
    ppp_users = []
    for row in ppp:
        # A PPP session's bytes are on its dynamic interface <pppoe-name>; /ppp/active has none.
        link = by_name.get(f"<{row['service'] or 'pppoe'}-{row['name']}>")
        ppp_users.append({
            "id": row["id"], "user": row["name"], "service": row["service"], "address": row["address"],
            "mac_address": row["caller_id"], "uptime_seconds": row["uptime_seconds"],
            "bytes_in": link["rx_bytes"] if link else None, "bytes_out": link["tx_bytes"] if link else None})
    return {
        "taken_at": timezone.now().isoformat(),
        "resource": {
            "cpu_load": resource["cpu_load"], "cpu_count": resource["cpu_count"],
            "memory_used_pct": round(100.0 * (total - free) / total, 1) if total else 0.0,
            "free_memory": free, "total_memory": total, "uptime_seconds": resource["uptime_seconds"],
            "version": resource["version"], "board_name": resource["board_name"],
            "architecture_name": resource["architecture_name"]},
        "interfaces": [{
            "name": row["name"], "type": row["type"], "running": row["running"], "disabled": row["disabled"],
            "rx_bytes": row["rx_bytes"], "tx_bytes": row["tx_bytes"],
            **rates.get(row["name"], {"rx_bps": 0, "tx_bps": 0})} for row in ports],
        "hotspot": {"count": len(hotspot), "users": [{
            "id": row["id"], "user": row["user"], "address": row["address"], "mac_address": row["mac_address"],
            "server": row["server"], "uptime_seconds": row["uptime_seconds"], "bytes_in": row["bytes_in"],
            "bytes_out": row["bytes_out"]} for row in hotspot]},
        "ppp": {"count": len(ppp_users), "users": ppp_users},
    }


# --- ending sessions -----------------------------------------------------------------------------------

def kick(router: Router, *, kind: str, user: str | None = None, session_id: str | None = None, by) -> int:
    """End a hotspot or PPPoE session on the router: every session of ``user``, or the one whose
    router id (``*1A``, as stats lists it) is ``session_id``. Returns how many ended; a session
    already gone counts as none, so kicking twice is harmless."""
    if kind not in KINDS:
        raise InvalidAction(f"kind must be one of {', '.join(KINDS)}")
    user, session_id = (user or "").strip() or None, (session_id or "").strip() or None
    if (user is None) == (session_id is None):
        raise InvalidAction("give either user or session_id")
    who = f"{kind} {'user ' + user if user else 'session ' + session_id}"
    with _logged(router, by, "kick"):
        with client_for(router) as client:
            if kind == "hotspot":
                removed = client.kick_hotspot(id=session_id, user=user)
            else:
                removed = client.kick_ppp(id=session_id, name=user)
    log_action(router, by, "kick", ServiceControlLog.Outcome.OK, f"{who}: {removed} removed", audit="kicked")
    if user and removed:
        coa.announce_disconnected([user], "kick")
    return removed


def on_each_router(attempts: list, work) -> list:
    """The CoA fallbacks' fan-out: the attempts grouped by NAS address, each group handed with a
    client for every router at that address (or the RouterError of connecting) to
    ``work(client_or_error, group)`` in parallel (no database in the workers, so a dead router
    costs only its own timeout). [(router, group, work's result)]; a NAS address of no router of
    ours is not tried."""
    plans, by_nas = [], defaultdict(list)
    for attempt in attempts:
        by_nas[attempt.nas_ip_address].append(attempt)
    for address, group in by_nas.items():
        for router in _routers_at(address):
            try:
                plans.append((router, client_for(router), group))
            except RouterError as error:
                plans.append((router, error, group))
    if not plans:
        return []
    with ThreadPoolExecutor(max_workers=min(FALLBACK_WORKERS, len(plans))) as pool:
        outcomes = list(pool.map(lambda plan: work(plan[1], plan[2]), plans))
    return [(router, group, outcome) for (router, _, group), outcome in zip(plans, outcomes, strict=True)]


def kick_failed_disconnects(attempts: list) -> None:
    """The radius CoA fallback (registered in RoutersConfig.ready): end over the RouterOS API the
    sessions whose Disconnect-Request the NAS refused or did not answer. The router is the one the
    NAS row names ("router <id>") or whose host is the NAS address. Each attempt gets ``api_kicked``
    and a line in ``detail``; each router one "kick" log row. Routers are asked in parallel (one
    connection each, no database in the workers), so a dead one costs only its own timeout."""
    tried: dict[int, list[str]] = defaultdict(list)
    for router, group, (removed, error) in on_each_router(attempts, _end_sessions):
        for attempt in group:
            attempt.api_kicked = (attempt.api_kicked or 0) + removed.get(id(attempt), 0)
            tried[id(attempt)].append(f"{router.name}: {error}" if error else
                                      f"{router.name}: {removed.get(id(attempt), 0)} ended")
        if not error and not any(removed.values()):
            # Sessions already gone on the router (the sweep retries stale radacct rows every few
            # minutes): nothing was done there, so nothing to log.
            continue
        names = ", ".join(f"{a.username} ({removed.get(id(a), 0)})" for a in group)
        requested = ", ".join(sorted({a.requested_by for a in group if a.requested_by})) or "system"
        # No audit entry here: the radius "disconnected" entry of each session notes this kick.
        log_action(router, None, "kick", ServiceControlLog.Outcome.FAILED if error else ServiceControlLog.Outcome.OK,
                   f"CoA fallback for {requested}: {names}" + (f"; {error}" if error else ""))
    for attempt in attempts:
        if id(attempt) in tried:
            attempt.detail = _joined(attempt.detail, f"CoA failed ({attempt.outcome}), kicked over the API: "
                                                     + "; ".join(tried[id(attempt)]))


def _routers_at(address: str) -> list[Router]:
    from radius.models import Nas

    description = Nas.objects.filter(nasname=address).values_list("description", flat=True).first() or ""
    named = ascii_whole_number(description.removeprefix("router ")) if description.startswith("router ") else None
    if named is not None:
        router = Router.objects.filter(pk=named).first()
        if router is not None:
            return [router]
    return list(Router.objects.filter(host=address).order_by("pk"))


def _end_sessions(client: RouterClient | RouterError, attempts: list) -> tuple[dict[int, int], str]:
    """({id(attempt): sessions ended}, error text or ""), in a worker thread."""
    if isinstance(client, RouterError):
        return {}, f"{client.reason}: {client.message}"
    removed: dict[int, int] = {}
    try:
        with client:
            hotspot = client.print("/ip/hotspot/active", proplist=(".id", "user", "address"))
            ppp = client.print("/ppp/active", proplist=(".id", "name", "address"))
            for attempt in attempts:
                address = (attempt.attributes or {}).get("Framed-IP-Address") or ""
                ended = 0
                for row in hotspot:
                    if row.get("user") == attempt.username and (not address or row.get("address") == address):
                        ended += client.kick_hotspot(id=row["id"])
                for row in ppp:
                    if row.get("name") == attempt.username and (not address or row.get("address") == address):
                        ended += client.kick_ppp(id=row["id"])
                removed[id(attempt)] = ended
    except RouterError as error:
        return removed, f"{error.reason}: {error.message}"
    return removed, ""


def _joined(detail: str, more: str) -> str:
    return f"{detail}; {more}" if detail else more
