"""Live events: /ws/admin/ admits staff only, and publish() delivers after commit, never on rollback."""
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction

from accounts.roles import ADMIN, SUPPORT, TECHNICIAN
from config.asgi import application
from hotspot import services as hotspot
from lib import live

pytestmark = pytest.mark.django_db(transaction=False)


def communicator(client=None):
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if client is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}".encode()))
    return WebsocketCommunicator(application, "/ws/admin/", headers=headers)


@async_to_sync
async def connect(ws):
    return await ws.connect()


def test_anonymous_visitors_are_refused(client):
    ws = communicator()
    connected, code = connect(ws)
    assert not connected and code == 4403


def test_a_deactivated_account_is_refused(signed_in, support_agent):
    client = signed_in(SUPPORT)
    support_agent.is_active = False
    support_agent.save()
    connected, code = connect(communicator(client))
    assert not connected and code == 4403


def test_a_foreign_origin_is_refused(signed_in):
    client = signed_in(ADMIN)
    ws = WebsocketCommunicator(application, "/ws/admin/", headers=[
        (b"origin", b"http://evil.example"),
        (b"cookie", f"sessionid={client.session.session_key}".encode())])
    connected, _ = connect(ws)
    assert not connected


@async_to_sync
async def talk(ws, publish):
    connected, _ = await ws.connect()
    assert connected
    hello = await ws.receive_json_from(timeout=3)
    await publish()
    try:
        first = await ws.receive_json_from(timeout=3)
        quiet = await ws.receive_nothing(timeout=0.3)
    finally:
        await ws.disconnect()
    return hello, first, quiet


@pytest.mark.django_db(transaction=True)  # consumers use their own connections: data must be committed
def test_staff_receive_events_published_after_commit(signed_in):
    client = signed_in(TECHNICIAN)

    async def publish():
        from channels.db import database_sync_to_async

        def work():
            # Rolled-back work announces nothing...
            try:
                with transaction.atomic():
                    live.publish(live.ADMIN, "customer.created", {"id": -1})
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
            # ...committed work does, once.
            hotspot.create_customer("0712 345 678", name="Akinyi")

        await database_sync_to_async(work)()

    hello, event, quiet = talk(communicator(client), publish)
    assert hello == {"event": "live.connected", "data": {"groups": ["admin"]}}
    assert event["event"] == "customer.created" and event["data"]["id"] > 0
    assert quiet


def test_nothing_is_sent_before_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        live.publish(live.ADMIN, "payment.completed", {"id": 1})
    assert len(callbacks) == 1


def test_customer_and_provisioning_groups_follow_the_same_helper():
    assert live.customer_group(42) == "customer.42"
    assert live.provisioning_group("a1b2") == "provisioning.a1b2"


def test_a_channel_layer_outage_does_not_break_the_business_operation(settings, caplog):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}
    channel_layers.backends.clear()
    try:
        live._send(live.ADMIN, {"type": live.MESSAGE_TYPE, "event": "x", "data": {}})  # handed over: no wait
        live.drain()
    finally:
        channel_layers.backends.clear()
    assert "1 live events were not delivered" in caplog.text


def test_events_for_one_group_leave_as_one_message_in_order():
    a = {"type": live.MESSAGE_TYPE, "event": "a", "data": {"n": 1}}
    b = {"type": live.MESSAGE_TYPE, "event": "b", "data": {}}
    merged = live._merged([("admin", a), ("customer.1", a), ("admin", b), ("customer.1", b), ("customer.2", b)])
    assert merged == [
        ("admin", {"type": live.BATCH_TYPE, "events": [{"event": "a", "data": {"n": 1}}, {"event": "b", "data": {}}]}),
        ("customer.1", {"type": live.BATCH_TYPE, "events": [{"event": "a", "data": {"n": 1}},
                                                             {"event": "b", "data": {}}]}),
        ("customer.2", b),  # alone: the plain message
    ]
    many = live._merged([("admin", {"type": live.MESSAGE_TYPE, "event": str(n), "data": {}})
                         for n in range(live.BATCH + 1)])
    assert [len(m.get("events", [m])) for _, m in many] == [live.BATCH, 1]


@pytest.mark.django_db(transaction=True)
def test_a_batch_reaches_the_websocket_as_separate_events_in_order(signed_in):
    client = signed_in(TECHNICIAN)

    @async_to_sync
    async def run():
        from channels.db import database_sync_to_async

        ws = communicator(client)
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from(timeout=3)  # live.connected
        await database_sync_to_async(lambda: live.publish_many(
            [(live.ADMIN, "payment.completed", {"id": 1}), (live.customer_group(1), "payment.completed", {"id": 1}),
             (live.ADMIN, "subscription.changed", {"id": 2})]))()
        try:
            return [await ws.receive_json_from(timeout=3) for _ in range(2)], await ws.receive_nothing(timeout=0.3)
        finally:
            await ws.disconnect()

    events, quiet = run()
    assert [e["event"] for e in events] == ["payment.completed", "subscription.changed"]
    assert quiet


def test_one_group_refused_does_not_lose_the_others(caplog):
    from channels.layers import InMemoryChannelLayer

    class Refusing(InMemoryChannelLayer):
        async def group_send(self, group, message):
            if group == "customer.1":
                raise ConnectionError("refused")
            await super().group_send(group, message)

    layer = Refusing()

    @async_to_sync
    async def run():
        channel = await layer.new_channel()
        await layer.group_add(live.ADMIN, channel)
        await live._Sender._send(layer, live._merged([
            ("customer.1", {"type": live.MESSAGE_TYPE, "event": "payment.completed", "data": {}}),
            (live.ADMIN, {"type": live.MESSAGE_TYPE, "event": "payment.completed", "data": {"id": 7}})]))
        return await layer.receive(channel)

    assert run()["data"] == {"id": 7}
    assert "1 live events were not delivered" in caplog.text
