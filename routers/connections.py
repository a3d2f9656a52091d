"""RouterOS API connections kept open between reads that recur, so a router's log is not flooded.

RouterOS writes "user X logged in from A via api" (topics system,info,account) for every API login
and "logged out" when the connection ends. The minute poll and live traffic (every 5 s per viewer)
used to log in each time: two log lines a minute per router for the poll alone, more with a
graph open, pushing everything else out of the router's memory log (1000 lines by default). A
logging rule cannot fix that for every router we support: rules match by topic (and, only on
recent RouterOS 7, by a positive regex), so hiding our user's logins would mean editing the
operator's default ``info`` rule and hiding people's logins too. Fewer logins is the fix.

``use(...)`` runs ``work(client)`` on the router's kept connection in this process: opened on
first use, kept ``ROUTER_API_KEEP_SECONDS`` after its last use, then closed (by a sweeper thread,
so a process that stops asking does not hold it). One caller at a time per connection (a lock:
routeros-api is not thread-safe); a caller that finds it busy for more than a moment uses a
connection of its own for that once. A kept connection that fails at once (reset, closed: the
router restarted meanwhile) is dropped and ``work`` runs once more on a fresh one, so ``work``
must be a read; one that times out is dropped and the error raised (a silent router gets no
second wait). New credentials, host, port or TLS settings open a new connection and close the
old one. Each process keeps its own: a child forked from a process holding connections (Celery
prefork, gunicorn) starts with none, closing only its copies of the parent's descriptors (nothing
is sent: the parent's connections go on). ``close_all()`` runs at exit.

One-off actions (provisioning, backup, reboot, kicks) keep opening their own connection
(``services.client_for``): they are rare, may change the router, and some end the connection.
"""
import atexit
import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from .routeros import RouterClient, RouterCommandRefused, RouterUnreachable

T = TypeVar("T")
# How long a caller waits for a kept connection another thread is using (its reads take
# milliseconds) before it opens one of its own.
BUSY_WAIT_SECONDS = 1.0


class _Kept:
    def __init__(self, key: tuple):
        self.key = key
        self.lock = threading.Lock()
        self.client: RouterClient | None = None
        self.last_used = time.monotonic()
        self.retired = False  # replaced or closing: its user closes it when done


_pid = os.getpid()
_guard = threading.Lock()
_kept: dict[int, _Kept] = {}
_sweeper: threading.Thread | None = None


def keep_seconds() -> float:
    return float(settings.ROUTER_API_KEEP_SECONDS)


def use(router_id: int, client: RouterClient, work: Callable[[RouterClient], T]) -> T:
    """``work(client)`` on router ``router_id``'s kept connection: ``client`` (not yet connected,
    e.g. from ``services.client_for``) says where and how to log in and the time limit; it becomes
    the kept connection when none is open. Returns what ``work`` returns, raises what it raises
    (RouterError for the router's failures)."""
    if keep_seconds() <= 0:
        with client:
            return work(client)
    kept = _checkout(router_id, _key(client))
    if kept is None:  # busy: this once on a connection of its own
        with client:
            return work(client)
    try:
        spare = client
        while True:
            reused = kept.client is not None and kept.client.connected
            if reused:
                kept.client.set_timeout(client.timeout)
            else:
                kept.client, spare = spare or _copy(client), None
                kept.client.connect()
            try:
                return work(kept.client)
            except RouterCommandRefused:
                raise  # a !trap leaves the stream in step: the connection stays good
            except RouterUnreachable as error:
                _drop(kept)
                if not reused or error.timed_out:
                    raise
            except BaseException:
                _drop(kept)  # whatever else went wrong, the stream may be out of step
                raise
    finally:
        kept.last_used = time.monotonic()
        if kept.retired:
            _drop(kept)
        kept.lock.release()


def forget(router_id: int) -> None:
    """Close this process's kept connection to the router (e.g. once it is deleted)."""
    with _lock():
        kept = _kept.pop(router_id, None)
    if kept is not None:
        _retire(kept)


def close_all() -> None:
    with _lock():
        found = list(_kept.values())
        _kept.clear()
    for kept in found:
        _retire(kept)


def open_count() -> int:
    """Connections this process holds open (for tests and benches)."""
    with _lock():
        return sum(1 for kept in _kept.values() if kept.client is not None and kept.client.connected)


def _checkout(router_id: int, key: tuple) -> _Kept | None:
    """The router's entry with its lock held, or None when another thread keeps it busy."""
    stale = None
    with _lock():
        kept = _kept.get(router_id)
        if kept is None or kept.key != key:
            stale, kept = kept, _Kept(key)
            _kept[router_id] = kept
        _start_sweeper()
    if stale is not None:  # the router's address or credentials changed: the old login goes
        _retire(stale)
    return kept if kept.lock.acquire(timeout=BUSY_WAIT_SECONDS) else None


def _drop(kept: _Kept) -> None:
    if kept.client is not None:
        kept.client.close()
    kept.client = None


def _retire(kept: _Kept) -> None:
    """Close it now if nobody uses it, else its user does when done."""
    kept.retired = True
    if kept.lock.acquire(blocking=False):
        try:
            _drop(kept)
        finally:
            kept.lock.release()


def close_idle() -> None:
    """Close the connections unused for ROUTER_API_KEEP_SECONDS (the sweeper thread calls it)."""
    cutoff = time.monotonic() - keep_seconds()
    with _lock():
        idle = [kept for kept in _kept.values() if kept.last_used < cutoff]
    for kept in idle:
        if kept.lock.acquire(blocking=False):  # in use: not idle after all
            try:
                if kept.last_used < cutoff:
                    _drop(kept)
            finally:
                kept.lock.release()


def _sweep() -> None:
    while True:
        time.sleep(max(1.0, min(keep_seconds() / 3, 30.0)))
        close_idle()


def _start_sweeper() -> None:
    global _sweeper
    if _sweeper is None or not _sweeper.is_alive():
        _sweeper = threading.Thread(target=_sweep, name="router-connections", daemon=True)
        _sweeper.start()


def _lock() -> threading.Lock:
    """The registry's lock, after making sure it is this process's registry (see _after_fork)."""
    if _pid != os.getpid():
        _after_fork()
    return _guard


def _after_fork() -> None:
    """A forked child inherits the parent's open sockets and, if a thread held one at the fork,
    locks that nobody will release. It closes its copies of the sockets (a plain close of its own
    descriptor sends nothing while the parent holds the connection, and lets the parent's close end
    it) and starts with none."""
    global _pid, _guard, _kept, _sweeper
    inherited = list(_kept.values())
    _pid, _guard, _kept, _sweeper = os.getpid(), threading.Lock(), {}, None
    for kept in inherited:
        try:
            _drop(kept)
        except Exception:  # noqa: BLE001 - a descriptor already gone is as good as closed
            pass


def _key(client: RouterClient) -> tuple:
    return (client.host, client.port, client.username, _digest(client.password), client.use_tls,
            client.tls_verify, _digest(client.tls_ca or ""))


def _copy(client: RouterClient) -> RouterClient:
    return RouterClient(client.host, client.port, client.username, client.password, use_tls=client.use_tls,
                        tls_verify=client.tls_verify, tls_ca=client.tls_ca, timeout=client.timeout)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


os.register_at_fork(after_in_child=_after_fork)
atexit.register(close_all)
