"""Router polling: every router at once, then one pass over the database.

``poll_all()`` asks every router (but those being provisioned) for its load, memory, uptime, number
of logged-in hotspot users and the byte counters of its physical ports, each over its own API
connection (kept open between polls: routers.connections) from a bounded thread pool. A router gets
the Routers settings' poll timeout (``ROUTER_POLL_TIMEOUT_SECONDS`` by default) for its socket
operations and its whole poll, so a dead or slow one costs the cycle only its own timeout: the cycle
takes about the slowest router's time, not the sum.

Then one transaction writes what was learned: status (online / offline when unreachable / error for
anything else, as ``services.test_connection`` does), ``last_seen_at``, ``last_error``, a
``RouterSample`` per reachable router, a ``ServiceControlLog`` row ("status") per change, and after
commit a ``router.status`` event per changed router plus one ``router.live`` summary to the admins.
Beat's job runs ``poll_when_due()`` every minute, which polls once per the saved poll interval.
The worker threads never touch the database. ``cleanup_samples`` deletes samples past their retention
(the nightly job and the ``cleanup_router_samples`` command).
"""
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lib import live
from lib.secrets import UnreadableSecret
from lib.shared_cache import cache as shared_cache
from siteconfig import store

from . import connections
from .models import Router, RouterSample, ServiceControlLog
from .routeros import RouterClient, RouterError
from .services import SecretUnreadable

LIVE_EVENT = "router.live"
STATUS_EVENT = "router.status"
# A router seen up this long after a reboot we asked for, with an uptime older than the request,
# never restarted (the command was lost): stop calling it "rebooting".
REBOOT_GRACE_SECONDS = 600
# Ports whose counters make a router's rx/tx: bridges, VLANs and tunnels would count the same bytes again.
PHYSICAL_TYPES = ("ether", "wlan", "wifi", "wifiwave2", "sfp", "sfp-sfpplus", "lte", "60g")


class PollTimeout(RouterError):
    reason = "unreachable"


@dataclass
class Target:
    """What a worker thread needs to reach one router (read in the main thread)."""

    id: int
    name: str
    host: str
    port: int
    username: str
    password: str | UnreadableSecret
    use_tls: bool
    tls_certificate: str = ""


@dataclass
class PollResult:
    router_id: int
    name: str
    seconds: float
    ok: bool
    reason: str = ""
    error: str = ""
    sample: dict = field(default_factory=dict)


def ask(target: Target, timeout: float, read: Callable[[RouterClient, Callable[[], None]], dict]) -> PollResult:
    """One router, on its kept connection (routers.connections: no new login, and so no line in
    the router's log, while the connection lasts; ``read`` may run twice when the kept connection
    had gone): ``read(client, in_time)`` returns what was learned (the result's ``sample``) and calls
    ``in_time()`` between commands, which stops a router that answers too slowly once the whole
    exchange has had ``timeout`` seconds. Never raises: failures are results."""
    started = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - started

    def in_time() -> None:
        if elapsed() > timeout:
            raise PollTimeout(f"poll took longer than {timeout:g} s", host=target.host)

    try:
        if isinstance(target.password, UnreadableSecret):
            raise SecretUnreadable("the stored API password cannot be decrypted: enter it again", host=target.host)
        client = RouterClient(target.host, target.port, target.username, target.password, use_tls=target.use_tls,
                              tls_ca=target.tls_certificate or None, timeout=timeout)

        def work(client: RouterClient) -> dict:
            in_time()
            return read(client, in_time)

        learned = connections.use(target.id, client, work)
    except RouterError as error:
        return PollResult(target.id, target.name, elapsed(), False, error.reason, error.message)
    except Exception as error:  # noqa: BLE001 - one odd router must not end the cycle for the others
        return PollResult(target.id, target.name, elapsed(), False, "error", f"{type(error).__name__}: {error}")
    return PollResult(target.id, target.name, elapsed(), True, sample=learned)


def _load(client: RouterClient, in_time: Callable[[], None]) -> dict:
    resource = client.resource()
    in_time()
    active = len(client.print("/ip/hotspot/active", proplist=(".id",)))
    in_time()
    ports = [row for row in client.interfaces() if row["type"] in PHYSICAL_TYPES]
    in_time()
    total, free = resource["total_memory"], resource["free_memory"]
    return {
        "cpu_load": resource["cpu_load"],
        "memory_used_pct": round(100.0 * (total - free) / total, 1) if total else 0.0,
        "uptime_seconds": resource["uptime_seconds"],
        "version": resource["version"],
        "active_users": active,
        "rx_bytes": sum(row["rx_bytes"] for row in ports),
        "tx_bytes": sum(row["tx_bytes"] for row in ports),
    }


def poll_router(target: Target, timeout: float) -> PollResult:
    """Resource, hotspot active count, interface counters."""
    return ask(target, timeout, _load)


def targets(routers=None) -> list[Target]:
    """What the worker threads need of ``routers`` (default: every router not being provisioned)."""
    if routers is None:
        routers = Router.objects.exclude(status=Router.Status.PROVISIONING)
    routers = routers.only("id", "name", "host", "api_port", "api_username", "api_password", "use_tls",
                           "tls_certificate")
    return [Target(r.pk, r.name, r.host, r.api_port, r.api_username, r.api_password, r.use_tls, r.tls_certificate)
            for r in routers]


def fan_out(work: Callable[[Target, float], PollResult], found: list[Target], timeout: float | None = None,
            workers: int | None = None) -> list[PollResult]:
    """``work(target, timeout)`` for every target at once on a bounded thread pool, results in order."""
    timeout = float(timeout or store.get("routers.poll_timeout"))
    workers = workers or settings.ROUTER_POLL_WORKERS
    if not found:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(found)), thread_name_prefix="router-poll") as pool:
        return list(pool.map(lambda target: work(target, timeout), found))


LAST_CYCLE_KEY = "routers:poll:last-cycle"


def poll_all(timeout: float | None = None, workers: int | None = None) -> dict:
    """Poll every router concurrently and record the outcome; returns the cycle's summary."""
    started = time.perf_counter()
    return record(fan_out(poll_router, targets(), timeout, workers), started)


# Beat asks every minute; a cycle that started less than this short of the interval ago counts as
# this one (beat's minute is not exact, and a slow cycle must not make the next one skip).
INTERVAL_SLACK_SECONDS = 10


def poll_when_due(now: float | None = None) -> dict:
    """The scheduled poll: a full cycle once per the Routers settings' poll interval (beat asks every
    minute). The cycle's start is kept in the shared cache, so any worker's run counts."""
    now = time.time() if now is None else now
    interval = store.get("routers.poll_interval")
    last = shared_cache.get(LAST_CYCLE_KEY)
    if last is not None and now - float(last) < interval - INTERVAL_SLACK_SECONDS:
        return {"skipped": True, "next_in_seconds": round(interval - (now - float(last)))}
    shared_cache.set(LAST_CYCLE_KEY, now, interval * 2)
    return poll_all()


def _status(result: PollResult) -> str:
    if result.ok:
        return Router.Status.ONLINE
    return Router.Status.OFFLINE if result.reason == "unreachable" else Router.Status.ERROR


def _reboot_seen(router: Router, result: PollResult, now) -> ServiceControlLog | None:
    """A router we asked to reboot (routers.actions) is back when it answers with an uptime shorter
    than the time since the request: clears ``reboot_requested_at`` and returns the log row. One
    still answering with an older uptime long after the request never restarted."""
    if router.reboot_requested_at is None or not result.ok:
        return None
    since = (now - router.reboot_requested_at).total_seconds()
    uptime = result.sample["uptime_seconds"]
    if uptime < since:
        outcome, detail = ServiceControlLog.Outcome.OK, f"back after {max(0, round(since - uptime))} s"
    elif since > REBOOT_GRACE_SECONDS:
        outcome, detail = ServiceControlLog.Outcome.FAILED, f"did not restart (up {uptime} s)"
    else:
        return None  # not gone down yet
    router.reboot_requested_at = None
    return ServiceControlLog(router=router, router_name=router.name, action="reboot", outcome=outcome,
                             detail=detail, created_at=now)


def record(results: list[PollResult], started: float | None = None) -> dict:
    """Write one cycle's results in one transaction; events go out after commit. ``started``: the
    cycle's perf_counter() start, for its duration in the summary."""
    now = timezone.now()
    polled = time.perf_counter() - started if started is not None else 0.0
    changed, rows, samples, logs, events = [], [], [], [], []
    with transaction.atomic():
        # Re-read under lock: a router deleted or put into provisioning meanwhile is left alone.
        current = Router.objects.select_for_update().exclude(status=Router.Status.PROVISIONING).in_bulk(
            [result.router_id for result in results])
        for result in results:
            router = current.get(result.router_id)
            if router is None:
                continue
            previous, router.status = router.status, _status(result)
            if result.ok:
                router.last_seen_at, router.last_error = now, ""
                measured = dict(result.sample)
                # An upgrade shows on the next poll, not only at the next connection test.
                router.version = measured.pop("version", router.version) or router.version
                samples.append(RouterSample(router=router, taken_at=now, **measured))
            else:
                router.last_error = f"{result.reason}: {result.error}"
            rows.append(router)
            back = _reboot_seen(router, result, now)
            if back is not None:
                logs.append(back)
            if router.status != previous:
                changed.append(router)
                logs.append(ServiceControlLog(
                    router=router, router_name=router.name, action="status",
                    outcome=ServiceControlLog.Outcome.OK if result.ok else ServiceControlLog.Outcome.FAILED,
                    detail=f"{previous} -> {router.status}" + ("" if result.ok else f": {router.last_error}"),
                    created_at=now))
            if router.status != previous or back is not None:
                events.append((live.ADMIN, STATUS_EVENT, {
                    "id": router.pk, "name": router.name, "status": router.status, "previous": previous,
                    "last_seen_at": router.last_seen_at.isoformat() if router.last_seen_at else None,
                    "last_error": router.last_error, "rebooting": router.reboot_requested_at is not None}))
        Router.objects.bulk_update(rows, ["status", "last_seen_at", "last_error", "reboot_requested_at", "version"],
                                   batch_size=500)
        RouterSample.objects.bulk_create(samples, batch_size=1000)
        ServiceControlLog.objects.bulk_create(logs, batch_size=1000)
        counts = {status: 0 for status in (Router.Status.ONLINE, Router.Status.OFFLINE, Router.Status.ERROR)}
        for router in rows:
            counts[router.status] += 1
        slowest = max(results, key=lambda result: result.seconds, default=None)
        summary = {
            "taken_at": now.isoformat(), "polled": len(rows),
            "online": counts[Router.Status.ONLINE], "offline": counts[Router.Status.OFFLINE],
            "error": counts[Router.Status.ERROR], "changed": [router.pk for router in changed],
            "active_users": sum(sample.active_users for sample in samples),
            "slowest": {"id": slowest.router_id, "name": slowest.name, "seconds": round(slowest.seconds, 3)}
            if slowest else None,
            "poll_seconds": round(polled, 3),
            "seconds": round(time.perf_counter() - started, 3) if started is not None else 0.0,
        }
        live.publish_many([*events, (live.ADMIN, LIVE_EVENT, summary)])
    return summary


def cleanup_samples(now: datetime | None = None) -> dict:
    """Delete samples older than ROUTER_SAMPLE_RETENTION_DAYS. Safe to run twice or at once."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ROUTER_SAMPLE_RETENTION_DAYS)
    deleted, _ = RouterSample.objects.filter(taken_at__lt=cutoff).delete()
    return {"deleted": deleted}
