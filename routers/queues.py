"""The fair-use fallback over the RouterOS API: a CoA-Request changing a live session's rate that
the NAS refused or did not answer is applied to the session's queue instead.

RouterOS gives each hotspot or PPP session with a rate limit a dynamic simple queue, named
``<hotspot-USER>`` or ``<pppoe-USER>`` and targeting the session's address: its ``max-limit`` is the
session's speed. Where a router refuses to change that queue (RouterOS may keep dynamic queues
read-only) or has none, the session's active entry is removed instead: the device signs in again
and FreeRADIUS answers with the fair-use rate (policy.d/hotspot). Registered as radius's rate
fallback in RoutersConfig.ready; each router asked gets one ServiceControlLog row.
"""
from .actions import _joined, on_each_router
from .models import ServiceControlLog
from .routeros import RouterClient, RouterCommandRefused, RouterError
from .services import log_action

QUEUE_MENU = "/queue/simple"


def slow_failed_coa(attempts: list) -> None:
    """The radius rate fallback: for each CoA attempt (kind coa, with Mikrotik-Rate-Limit) no NAS
    acknowledged, set the session's queue to the rate, else end the session. Sets ``api_changed``
    (queues changed), ``api_kicked`` (sessions ended) and a line in ``detail``; never raises."""
    for router, group, (done, error) in on_each_router(attempts, _slow):
        for attempt in group:
            changed, kicked = done.get(id(attempt), (0, 0))
            attempt.api_changed = (attempt.api_changed or 0) + changed
            if kicked:
                attempt.api_kicked = (attempt.api_kicked or 0) + kicked
            said = (f"{router.name}: {error}" if error else
                    f"{router.name}: queue set to {attempt.attributes['Mikrotik-Rate-Limit']}" if changed else
                    f"{router.name}: no queue to change, {kicked} sessions ended to sign in again")
            attempt.detail = _joined(attempt.detail, f"CoA failed ({attempt.outcome}), over the API: {said}")
        if error or any(sum(pair) for pair in done.values()):
            names = ", ".join(a.username for a in group)
            log_action(router, None, "slow down",
                       ServiceControlLog.Outcome.FAILED if error else ServiceControlLog.Outcome.OK,
                       f"CoA fallback for fair use: {names}" + (f"; {error}" if error else ""))


def _slow(client: RouterClient | RouterError, attempts: list) -> tuple[dict[int, tuple[int, int]], str]:
    """({id(attempt): (queues changed, sessions ended)}, error text or ""), in a worker thread."""
    if isinstance(client, RouterError):
        return {}, f"{client.reason}: {client.message}"
    done: dict[int, tuple[int, int]] = {}
    try:
        with client:
            queues = client.print(QUEUE_MENU, proplist=(".id", "name", "target"))
            for attempt in attempts:
                changed = _set_queues(client, queues, attempt)
                done[id(attempt)] = (changed, 0 if changed else _end(client, attempt))
    except RouterError as error:
        return done, f"{error.reason}: {error.message}"
    return done, ""


def _set_queues(client: RouterClient, queues: list[dict], attempt) -> int:
    user = attempt.username
    address = (attempt.attributes or {}).get("Framed-IP-Address") or ""
    names = {f"<hotspot-{user}>", f"<pppoe-{user}>"}
    # A rate limit's first part ("rx/tx") is the queue's max-limit; its bursts are left out.
    limit = attempt.attributes["Mikrotik-Rate-Limit"].split(" ")[0]
    changed = 0
    for queue in queues:
        targets = queue.get("target", "").split(",")
        if queue.get("name") in names or (address and f"{address}/32" in targets):
            try:
                client.set(QUEUE_MENU, queue["id"], **{"max-limit": limit})
                changed += 1
            except RouterCommandRefused:
                continue  # read-only on this router: the session is ended instead
    return changed


def _end(client: RouterClient, attempt) -> int:
    ended = 0
    address = (attempt.attributes or {}).get("Framed-IP-Address") or ""
    for row in client.print("/ip/hotspot/active", proplist=(".id", "user", "address")):
        if row.get("user") == attempt.username and (not address or row.get("address") == address):
            ended += client.kick_hotspot(id=row["id"])
    for row in client.print("/ppp/active", proplist=(".id", "name", "address")):
        if row.get("name") == attempt.username and (not address or row.get("address") == address):
            ended += client.kick_ppp(id=row["id"])
    return ended
