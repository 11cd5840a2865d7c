"""The channel-layer tap, through the instrumented demo: the chat consumer's group_add,
group_send and group_discard, the chat_message handler runs, and drops (ChannelFull, expiry)
counted as errors. In-memory here; the same with a real Redis in test_layer_redis.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer, JsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

from asgi_dashboard.events import HandlerRun, LayerOp
from asgi_dashboard.instrument import InstrumentedApp
from tests.instrument.conftest import Instrumented
from tests.instrument.layer_support import Communicator, chat, conn_ids, swapped_layer


@pytest.fixture
def layer_with() -> Iterator[Callable[[Any], Any]]:
    yield from swapped_layer()


async def test_chat_join_send_and_leave_are_recorded(
    instrumented: Instrumented, layer_with: Any
) -> None:
    layer_with(InMemoryChannelLayer())
    async with chat(instrumented.app) as alice, chat(instrumented.app) as bob:
        await alice.send_json({"message": "hi all"})
        assert (await alice.receive_json())["message"] == "hi all"
        assert (await bob.receive_json())["message"] == "hi all"
    a, b = conn_ids(instrumented)
    ops = instrumented.sink.of(LayerOp)
    adds = [o for o in ops if o.op == "group_add"]
    assert [(o.group, o.conn_id) for o in adds] == [("chat_lobby", a), ("chat_lobby", b)]
    assert all(o.layer == "InMemoryChannelLayer" and o.channel for o in adds)
    (send,) = [o for o in ops if o.op == "group_send"]
    assert (send.group, send.msg_type, send.conn_id, send.recipients) == (
        "chat_lobby",
        "chat.message",
        a,
        2,
    )
    sent = {"type": "chat.message", "message": "hi all", "user": "anonymous"}
    assert send.size == len(msgspec.msgpack.encode(sent))
    assert send.duration_ns > 0 and send.dropped == 0 and send.error is None
    discards = [o for o in ops if o.op == "group_discard"]
    assert sorted(o.conn_id or "" for o in discards) == sorted([a, b])
    runs = [r for r in instrumented.sink.of(HandlerRun) if r.from_layer]
    assert sorted((r.conn_id or "", r.handler) for r in runs) == sorted(
        [(a, "chat_message"), (b, "chat_message")]
    )
    assert all(r.duration_ns > 0 and r.error is None and r.sql_count == 0 for r in runs)
    assert all(r.consumer == "demoapp.consumers.ChatConsumer" for r in runs)
    # The client's frames are handled too (not from the layer).
    kinds = {r.msg_type for r in instrumented.sink.of(HandlerRun) if not r.from_layer}
    assert {"websocket.connect", "websocket.receive", "websocket.disconnect"} <= kinds


async def test_channel_full_in_a_group_send_is_counted_not_silent(
    instrumented: Instrumented, layer_with: Any
) -> None:
    layer = layer_with(InMemoryChannelLayer(capacity=1))
    # A member that never reads: its queue holds one message, the next one is dropped.
    await layer.group_add("chat_lobby", "never.reader")
    async with chat(instrumented.app) as alice:
        for text in ("one", "two"):
            await alice.send_json({"message": text})
            assert (await alice.receive_json())["message"] == text
    sends = [o for o in instrumented.sink.of(LayerOp) if o.op == "group_send"]
    assert [(o.recipients, o.dropped, o.error) for o in sends] == [
        (2, 0, None),
        (2, 1, "ChannelFull"),
    ]
    # A plain send to the full channel raises as before, and is recorded as a drop.
    with pytest.raises(ChannelFull):
        await layer.send("never.reader", {"type": "x.y"})
    last = instrumented.sink.of(LayerOp)[-1]
    assert (last.op, last.channel, last.dropped, last.error) == (
        "send",
        "never.reader",
        1,
        "ChannelFull",
    )
    assert last.conn_id is None and last.request_id is None  # not made by a request


async def test_channel_full_names_the_connection_that_lost_the_message(
    instrumented: Instrumented, layer_with: Any
) -> None:
    layer = layer_with(InMemoryChannelLayer(capacity=1))
    message = {"type": "chat.message", "message": "m", "user": "u"}
    async with chat(instrumented.app) as bob:
        (joined,) = [o for o in instrumented.sink.of(LayerOp) if o.op == "group_add"]
        assert joined.channel is not None
        # Two sends with no await that yields in between: bob's consumer cannot read the
        # first before the second finds his channel (capacity 1) full.
        await layer.send(joined.channel, message)
        with pytest.raises(ChannelFull):
            await layer.send(joined.channel, message)
        assert (await bob.receive_json())["message"] == "m"
    (b,) = conn_ids(instrumented)
    lost = [o for o in instrumented.sink.of(LayerOp) if o.dropped]
    assert [(o.op, o.dropped, o.dropped_conns, o.error) for o in lost] == [
        ("send", 1, (b,), "ChannelFull")
    ]


async def test_expired_messages_are_counted(instrumented: Instrumented, layer_with: Any) -> None:
    # expiry=-1: a message is stale as soon as it is queued (deterministic, unlike a short
    # positive expiry and a wait).
    layer = layer_with(InMemoryChannelLayer(expiry=-1))
    await layer.group_add("room", "ghost.channel")
    await layer.group_send("room", {"type": "note.one"})  # queued for the ghost
    await layer.group_send("room", {"type": "note.two"})  # cleans: the first one expired
    expired = [o for o in instrumented.sink.of(LayerOp) if o.op == "expired"]
    assert [(o.channel, o.dropped, o.layer) for o in expired] == [
        ("ghost.channel", 1, "InMemoryChannelLayer")
    ]
    assert expired[0].error is not None and "expired" in expired[0].error
    # The layer also took the channel out of its groups: the second send reached nobody.
    sends = [o for o in instrumented.sink.of(LayerOp) if o.op == "group_send"]
    assert [o.recipients for o in sends] == [1, 1]
    assert layer.groups.get("room", {}) == {}


async def test_no_sink_means_no_events_and_the_layer_works(
    instrumented: Instrumented, layer_with: Any
) -> None:
    from asgi_dashboard.instrument import layer as tap

    layer = layer_with(InMemoryChannelLayer())
    tap.set_sink(None)
    try:
        await layer.group_add("g", "c.one")
        await layer.group_send("g", {"type": "a.b"})
        assert (await layer.receive("c.one"))["type"] == "a.b"
    finally:
        tap.set_sink(instrumented.sink.emit)
    assert instrumented.sink.of(LayerOp) == []


class _CountingConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """A consumer whose handler queries the database (as a chat saving messages would)."""

    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        from django.contrib.auth.models import User

        count = await database_sync_to_async(User.objects.count)()
        exists = await User.objects.filter(username="nobody-here").aexists()
        await self.send_json({"users": count, "exists": exists})


async def test_a_handler_run_carries_its_sql(instrumented: Instrumented) -> None:
    app = InstrumentedApp(_CountingConsumer.as_asgi(), instrumented.sink, generation=1)
    client = Communicator(app, "/ws/count/")
    await client.connect()
    await client.send_json({})
    assert "users" in await client.receive_json()
    await client.disconnect()
    (run,) = [r for r in instrumented.sink.of(HandlerRun) if r.msg_type == "websocket.receive"]
    assert run.handler == "websocket_receive" and not run.from_layer
    assert run.sql_count == 2 and len(run.sql) == 2 and run.sql_ns > 0
    assert "COUNT(*)" in run.sql[0].sql and "LIMIT 1" in run.sql[1].sql
    assert run.duration_ns >= run.sql_ns
    assert run.consumer is not None and run.consumer.endswith("_CountingConsumer")


class _ProjectLayer(InMemoryChannelLayer):  # type: ignore[misc]
    """A project's own layer whose send adds something and calls the base class."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await super().send(channel, {**message, "stamped": True})


async def test_a_project_layer_calling_super_is_counted_once(
    instrumented: Instrumented,
) -> None:
    from asgi_dashboard.instrument import layer as tap

    tap._wrap_class(_ProjectLayer)  # what install does for a class named in CHANNEL_LAYERS
    layer = _ProjectLayer(capacity=1)
    await layer.group_add("g", "never.reader")
    await layer.group_send("g", {"type": "a.b"})
    await layer.group_send("g", {"type": "a.b"})
    with pytest.raises(ChannelFull):
        await layer.send("never.reader", {"type": "a.c"})
    ops = instrumented.sink.of(LayerOp)
    assert [(o.op, o.dropped, o.layer) for o in ops] == [
        ("group_add", 0, "_ProjectLayer"),
        ("group_send", 0, "_ProjectLayer"),
        ("group_send", 1, "_ProjectLayer"),
        ("send", 1, "_ProjectLayer"),
    ]
    assert (await layer.receive("never.reader"))["stamped"] is True


async def test_a_request_that_uses_the_layer_is_named_on_its_operations(
    instrumented: Instrumented, layer_with: Any
) -> None:
    import httpx

    from asgi_dashboard.events import RequestFinished

    layer = layer_with(InMemoryChannelLayer())

    async def publish(scope: Any, receive: Any, send: Any) -> None:
        # What a view notifying a group does (async_to_sync(layer.group_send) in a sync view).
        await layer.group_send("news", {"type": "news.item", "title": "x"})
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = InstrumentedApp(publish, instrumented.sink, generation=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        assert (await client.post("/publish/")).status_code == 204
    (request,) = instrumented.sink.of(RequestFinished)
    (op,) = instrumented.sink.of(LayerOp)
    assert (op.op, op.group, op.request_id, op.conn_id, op.recipients) == (
        "group_send",
        "news",
        request.id,
        None,
        0,
    )


class _SyncCountingConsumer(JsonWebsocketConsumer):  # type: ignore[misc]
    """A sync consumer: Channels runs each handler in a thread (database_sync_to_async)."""

    def connect(self) -> None:
        self.accept()

    def receive_json(self, content: Any, **kwargs: Any) -> None:
        from django.contrib.auth.models import User

        self.send_json({"users": User.objects.count()})


async def test_a_sync_consumer_handler_run_carries_its_sql(instrumented: Instrumented) -> None:
    app = InstrumentedApp(_SyncCountingConsumer.as_asgi(), instrumented.sink, generation=1)
    client = Communicator(app, "/ws/count/")
    await client.connect()
    await client.send_json({})
    assert "users" in await client.receive_json()
    await client.disconnect()
    (run,) = [r for r in instrumented.sink.of(HandlerRun) if r.msg_type == "websocket.receive"]
    assert run.sql_count == 1 and "COUNT(*)" in run.sql[0].sql
    assert run.error is None and run.duration_ns >= run.sql_ns > 0


async def test_a_handler_run_counts_the_thread_hop_channels_makes(
    instrumented: Instrumented, layer_with: Any
) -> None:
    layer_with(InMemoryChannelLayer())
    async with chat(instrumented.app) as alice:
        await alice.send_json({"message": "hop"})
        await alice.receive_json()
    (run,) = [r for r in instrumented.sink.of(HandlerRun) if r.from_layer]
    # AsyncConsumer.dispatch awaits aclose_old_connections() (sync_to_async) first.
    assert run.sync_hops == 1
