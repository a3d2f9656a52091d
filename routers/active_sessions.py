"""Who is logged in on the routers right now: each router's hotspot and PPP active lists, asked in
parallel over its kept connection (routers.connections), with each user's rate from how far the
router's counters moved since the previous read.

The caller waits at most ``BOUND_SECONDS`` for all of them: a router that has not answered by then
is reported as "no answer in time" and the page goes on (its worker finishes, or times out, on its
own). A reading serves every viewer for ``CACHE_SECONDS`` (a failure for ``FAILED_CACHE_SECONDS``,
so a dead router holds no refresh at all while it stays dead), so a room of staff watching the
page costs each router one read per few seconds. A router whose last reading failed is not waited
for again: that failure is shown while the router is asked again in the background, so a fleet
with many dead routers costs the page one cache round trip, not a wait. Counters and readings live in the shared cache,
which every web process sees; the worker threads never touch the database.

Rates: a hotspot session's bytes are on its /ip/hotspot/active row; a PPP session's on its dynamic
interface ``<pppoe-name>`` (/ppp/active has none). The router's "out" (hotspot bytes-out, the PPP
interface's tx) is what it sent to the customer: their download.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings

from lib.shared_cache import cache

from . import polling
from .actions import SESSION_INTERFACE_TYPES
from .models import Router
from .routeros import RouterClient, parse_duration

BOUND_SECONDS = 4.0          # the page waits no longer for every router together
TIMEOUT_SECONDS = 3.0        # one router's own limit (its socket operations and its whole read)
CACHE_SECONDS = 4            # a reading serves every viewer this long
FAILED_CACHE_SECONDS = 20    # a router that failed is asked again after this long
LAST_FAILURE_SECONDS = 600   # ...meanwhile the page shows that failure, without waiting on it
COUNTERS_SECONDS = 600       # the previous counters, for the next read's rates
HOTSPOT, PPPOE = "hotspot", "pppoe"


@dataclass
class Reading:
    """One router's answer: ``sessions`` when ``ok``; else ``reason`` (unreachable, auth_failed,
    slow…) and ``error``. ``taken_at``: wall-clock time of the read (a cached one is older)."""

    router_id: int
    name: str
    ok: bool
    reason: str = ""
    error: str = ""
    seconds: float = 0.0
    taken_at: float = 0.0
    sessions: list[dict] = field(default_factory=list)


def read_all(routers=None, *, bound: float = BOUND_SECONDS, timeout: float = TIMEOUT_SECONDS,
             workers: int | None = None) -> list[Reading]:
    """A Reading per router of ``routers`` (default: every router not being provisioned), in
    their order, within ``bound`` seconds of the call. The cached readings come in one round trip;
    a router whose last reading failed is not waited for (that failure is shown while it is asked
    again in the background), so only routers with no reading at all, or whose last one answered,
    are asked while the caller waits."""
    started = time.monotonic()
    targets = polling.targets(routers if routers is not None
                              else Router.objects.exclude(status=Router.Status.PROVISIONING).order_by("name", "pk"))
    if not targets:
        return []
    cached = cache.get_many([key for target in targets for key in (_key(target.id), _failed_key(target.id))])
    readings: dict[int, Reading] = {}
    ask_now, ask_later = [], []
    for target in targets:
        if (found := cached.get(_key(target.id))) is not None:
            readings[target.id] = found
        elif (failed := cached.get(_failed_key(target.id))) is not None:
            readings[target.id] = failed
            ask_later.append(target)
        else:
            ask_now.append(target)
    if ask_later:
        _ask_in_background(ask_later, timeout)
    if ask_now:
        pool = ThreadPoolExecutor(max_workers=min(workers or settings.ROUTER_POLL_WORKERS, len(ask_now)),
                                  thread_name_prefix="active-sessions")
        try:
            futures = [pool.submit(_ask, target, timeout) for target in ask_now]
            wait(futures, timeout=max(0.0, bound - (time.monotonic() - started)))
        finally:
            # Those still asking finish on their own (each within its timeout) and cache what they learn.
            pool.shutdown(wait=False, cancel_futures=True)
        for target, future in zip(ask_now, futures, strict=True):
            readings[target.id] = (future.result() if future.done() and not future.cancelled()
                                   else Reading(target.id, target.name, False, "slow", f"no answer within {bound:g} s"))
    return [readings[target.id] for target in targets]


def read_one(target: polling.Target, timeout: float = TIMEOUT_SECONDS) -> Reading:
    """One router's active sessions: the cached reading while fresh, else asked now. Never raises."""
    found = cache.get(_key(target.id))
    return found if found is not None else _ask(target, timeout)


def _ask(target: polling.Target, timeout: float) -> Reading:
    """Ask the router now and cache the reading (a failure also as the last failure, which
    read_all shows without waiting while it asks again). Never raises."""
    result = polling.ask(target, timeout, _read)
    if not result.ok:
        reading = Reading(target.id, target.name, False, result.reason, result.error, result.seconds, time.time())
        cache.set(_key(target.id), reading, FAILED_CACHE_SECONDS)
        cache.set(_failed_key(target.id), reading, LAST_FAILURE_SECONDS)
        return reading
    now = time.time()
    sessions = result.sample["sessions"]
    _add_rates(target.id, sessions, now)
    reading = Reading(target.id, target.name, True, seconds=result.seconds, taken_at=now, sessions=sessions)
    cache.set(_key(target.id), reading, CACHE_SECONDS)
    cache.delete(_failed_key(target.id))
    return reading


_background: ThreadPoolExecutor | None = None
_asking: set[int] = set()
_asking_lock = threading.Lock()


def _ask_in_background(targets: list[polling.Target], timeout: float) -> None:
    """Ask ``targets`` again on this process's own pool, each once at a time, without waiting."""
    global _background
    with _asking_lock:
        todo = [target for target in targets if target.id not in _asking]
        _asking.update(target.id for target in todo)
        if todo and _background is None:
            _background = ThreadPoolExecutor(max_workers=settings.ROUTER_POLL_WORKERS,
                                             thread_name_prefix="active-sessions-again")
    for target in todo:
        _background.submit(_ask_and_release, target, timeout)


def _ask_and_release(target: polling.Target, timeout: float) -> None:
    try:
        _ask(target, timeout)
    finally:
        with _asking_lock:
            _asking.discard(target.id)


def _key(router_id: int) -> str:
    return f"routers:active-sessions:{router_id}"


def _failed_key(router_id: int) -> str:
    return f"routers:active-sessions:failed:{router_id}"


def forget(router_id: int) -> None:
    """Drop the cached reading, so the next look asks the router (after a disconnect)."""
    cache.delete_many([_key(router_id), _failed_key(router_id)])


def _read(client: RouterClient, in_time) -> dict:
    hotspot = client.print("/ip/hotspot/active", proplist=(".id", "server", "user", "address", "mac-address",
                                                            "uptime", "bytes-in", "bytes-out"))
    in_time()
    ppp = client.print("/ppp/active", proplist=(".id", "name", "service", "caller-id", "address", "uptime"))
    in_time()
    links = {}
    if ppp:
        links = {row.get("name", ""): row for row in client.print("/interface", proplist=("name", "type", "rx-byte",
                                                                                           "tx-byte"))
                 if row.get("type") in SESSION_INTERFACE_TYPES}
        in_time()
    sessions = [{"kind": HOTSPOT, "id": row.get("id", ""), "user": row.get("user", ""),
                 "address": row.get("address", ""), "mac_address": row.get("mac-address", ""),
                 "server": row.get("server", ""), "uptime_seconds": parse_duration(row.get("uptime", "")),
                 "bytes_down": _int(row.get("bytes-out")), "bytes_up": _int(row.get("bytes-in"))}
                for row in hotspot]
    for row in ppp:
        link = links.get(f"<{row.get('service') or 'pppoe'}-{row.get('name', '')}>")
        sessions.append({"kind": PPPOE, "id": row.get("id", ""), "user": row.get("name", ""),
                         "address": row.get("address", ""), "mac_address": row.get("caller-id", ""),
                         "server": row.get("service", ""), "uptime_seconds": parse_duration(row.get("uptime", "")),
                         "bytes_down": _int(link.get("tx-byte")) if link else None,
                         "bytes_up": _int(link.get("rx-byte")) if link else None})
    return {"sessions": sessions}


def _add_rates(router_id: int, sessions: list[dict], now: float) -> None:
    """Each session's ``down_bps``/``up_bps`` from its counters' change since the previous read of
    the same session (None on a first sight, or when counters went back: a new session on an old id)."""
    key = f"routers:active-counters:{router_id}"
    before = cache.get(key) or {}
    counters = {}
    for session in sessions:
        session["down_bps"] = session["up_bps"] = None
        if session["bytes_down"] is None:
            continue
        ident = f"{session['kind']}{session['id']}:{session['user']}"
        counters[ident] = (now, session["bytes_down"], session["bytes_up"])
        previous = before.get(ident)
        if previous is None:
            continue
        seconds, down, up = now - previous[0], session["bytes_down"] - previous[1], session["bytes_up"] - previous[2]
        if seconds >= 1 and down >= 0 and up >= 0:
            session["down_bps"], session["up_bps"] = round(down * 8 / seconds), round(up * 8 / seconds)
        elif seconds < 1:  # two reads in the same second: keep the older counters for the next
            counters[ident] = previous
    cache.set(key, counters, COUNTERS_SECONDS)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
