"""Live events: the one helper apps call to push an event to websocket groups after commit.

Groups: ``admin`` (staff dashboards), ``customer.<id>`` (a customer's portal page) and
``provisioning.<job>`` (a router provisioning run). An event is a name plus a small JSON payload;
pages decide what to re-render when they see it, so events never carry permission-sensitive HTML.
"""
import asyncio
import atexit
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

ADMIN = "admin"
MESSAGE_TYPE = "live.event"
BATCH_TYPE = "live.events"  # several events for one group in one message
BATCH = 100


def customer_group(customer_id: int) -> str:
    return f"customer.{customer_id}"


def provisioning_group(job_id: Any) -> str:
    return f"provisioning.{job_id}"


def publish(group: str, event: str, data: dict[str, Any] | None = None) -> None:
    """Send ``event`` to ``group`` once the current transaction commits (at once outside one).

    Rolled-back work never announces itself. A channel layer outage is logged, never raised:
    a lost live update must not undo the business operation that caused it.
    """
    message = {"type": MESSAGE_TYPE, "event": event, "data": data or {}}
    transaction.on_commit(lambda: _send(group, message))


def publish_many(events: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Several (group, event, data) at once after commit, through one event loop: a sweep that
    changes thousands of rows would otherwise pay a loop per message."""
    if not events:
        return
    messages = [(group, {"type": MESSAGE_TYPE, "event": event, "data": data}) for group, event, data in events]
    transaction.on_commit(lambda: _send_all(messages))


class _Sender:
    """One event loop thread per process sends every event, keeping its Redis connections (a
    fresh loop and connection per event cost ~1.7 ms of CPU each, a fifth of a payment callback).
    Callers hand events over and go on: a payment's request does not wait for Redis. One queue,
    one consumer: events leave in the order they were published."""

    TIMEOUT = 5.0

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        threading.Thread(target=self.loop.run_until_complete, args=(self._deliver(),), name="live-events",
                         daemon=True).start()
        atexit.register(self.drain)

    async def _deliver(self) -> None:
        while True:
            handed = [await self.queue.get()]
            while not self.queue.empty():  # what queued up meanwhile leaves together
                handed.append(self.queue.get_nowait())
            try:
                for layer, messages in _by_layer(handed):
                    await self._send(layer, _merged(messages))
            except Exception:  # the sender thread must outlive any one batch
                log.exception("live events were not delivered")
            finally:
                for _ in handed:
                    self.queue.task_done()

    @staticmethod
    async def _send(layer, messages, timeout: float = TIMEOUT) -> None:
        """Each message on its own, so one refused does not take the others with it; all within one
        deadline, so a Redis that hangs holds the queue up once, not once per group."""
        lost, first_error = 0, None
        deadline = asyncio.get_running_loop().time() + timeout
        for group, message in messages:
            try:
                async with asyncio.timeout_at(deadline):
                    await layer.group_send(group, message)
            except Exception as error:
                lost += len(events_in(message))
                first_error = first_error or error
        if lost:
            log.error("%d live events were not delivered", lost, exc_info=first_error)

    def submit(self, layer, messages: list[tuple[str, dict[str, Any]]]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (layer, messages))

    def drain(self, timeout: float = TIMEOUT) -> None:
        """Wait until what was handed over has left (a command that publishes, then exits)."""
        if os.getpid() != self.pid:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.queue.join(), self.loop).result(timeout)
        except Exception:
            log.warning("live events still queued after %.0f s", timeout)


def _by_layer(handed: list) -> list[tuple[Any, list]]:
    """The handed-over batches as (layer, all their messages), one entry per layer in order
    (there is one layer per process; a test may swap it)."""
    merged: list[tuple[Any, list]] = []
    for layer, messages in handed:
        if merged and merged[-1][0] is layer:
            merged[-1][1].extend(messages)
        else:
            merged.append((layer, list(messages)))
    return merged


def _merged(messages: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """One message per group, in order: each group_send costs the Redis channel layer a few
    round trips, and a paid callback alone announces four events to two groups (under a burst
    the admin group gets one message for many payments)."""
    events: dict[str, list[dict[str, Any]]] = {}
    for group, message in messages:
        events.setdefault(group, []).append({"event": message["event"], "data": message["data"]})
    merged = []
    for group, items in events.items():
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            merged.append((group, {"type": MESSAGE_TYPE, **chunk[0]} if len(chunk) == 1
                           else {"type": BATCH_TYPE, "events": chunk}))
    return merged


def events_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The events ({"event", "data"}) a channel layer message carries, batched or not."""
    if message.get("type") == BATCH_TYPE:
        return message["events"]
    return [{"event": message["event"], "data": message["data"]}]


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _sender_for_process() -> _Sender:
    """Started lazily, so a forked worker starts its own."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = _Sender()
        return _sender


def drain() -> None:
    """Block until this process's live events have been sent (tests, short-lived commands)."""
    if _sender is not None:
        _sender.drain()


def _send_all(messages: list[tuple[str, dict[str, Any]]]) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer lives in the server's own loop, which async_to_sync reaches.
            async_to_sync(_Sender._send)(layer, _merged(messages))
        else:
            _sender_for_process().submit(layer, messages)
    except Exception:
        log.exception("%d live events were not delivered", len(messages))


def _send(group: str, message: dict[str, Any]) -> None:
    _send_all([(group, message)])


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Relays a group's live events to one websocket; subclasses choose groups and who may join."""

    async def groups_for(self) -> list[str] | None:
        """Groups to join, or None to refuse the connection."""
        raise NotImplementedError

    async def connect(self) -> None:
        self.joined = await self.groups_for() or []
        if not self.joined:
            # 4403: the websocket equivalent of 403, so the client stops retrying.
            await self.close(code=4403)
            return
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "live.connected", "data": {"groups": self.joined}})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_event(self, message: dict[str, Any]) -> None:
        for event in events_in(message):
            await self.send_json(event)

    async def live_events(self, message: dict[str, Any]) -> None:  # several at once (see _merged)
        await self.live_event(message)
