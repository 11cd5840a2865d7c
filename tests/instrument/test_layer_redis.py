"""The channel-layer tap on channels_redis, against a real redis-server (the ``redis_url``
fixture): the demo chat's operations with sizes as channels_redis serialized them, and a
group member over capacity counted from what channels_redis only logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from asgi_dashboard.events import HandlerRun, LayerOp
from tests.instrument.conftest import Instrumented
from tests.instrument.layer_support import chat, conn_ids, swapped_layer

pytestmark = pytest.mark.slow  # a redis-server per session, real round trips


@pytest.fixture
def layer_with() -> Iterator[Callable[[Any], Any]]:
    yield from swapped_layer()


async def test_redis_chat_operations_are_recorded(
    instrumented: Instrumented, layer_with: Any, redis_url: str
) -> None:
    layer = layer_with(RedisChannelLayer(hosts=[redis_url], prefix="asgi-dash-test-chat"))
    try:
        async with chat(instrumented.app) as alice, chat(instrumented.app) as bob:
            await alice.send_json({"message": "over redis"})
            assert (await alice.receive_json())["message"] == "over redis"
            assert (await bob.receive_json())["message"] == "over redis"
    finally:
        await layer.flush()
    a, b = conn_ids(instrumented)
    ops = instrumented.sink.of(LayerOp)
    assert all(o.layer == "RedisChannelLayer" for o in ops)
    assert [(o.group, o.conn_id) for o in ops if o.op == "group_add"] == [
        ("chat_lobby", a),
        ("chat_lobby", b),
    ]
    (send,) = [o for o in ops if o.op == "group_send"]
    assert (send.msg_type, send.conn_id, send.recipients, send.dropped) == (
        "chat.message",
        a,
        2,
        0,
    )
    # The serialized bytes: the message plus channels_redis' __asgi_channel__ and random
    # prefix, so more than the message's own msgpack.
    assert send.size is not None and send.size > 54
    assert sorted(o.conn_id or "" for o in ops if o.op == "group_discard") == sorted([a, b])
    runs = [r for r in instrumented.sink.of(HandlerRun) if r.from_layer]
    assert sorted(r.conn_id or "" for r in runs) == sorted([a, b])


async def test_redis_group_send_over_capacity_is_counted(
    instrumented: Instrumented, layer_with: Any, redis_url: str
) -> None:
    layer = layer_with(
        RedisChannelLayer(hosts=[redis_url], prefix="asgi-dash-test-full", capacity=1)
    )
    logger = logging.getLogger("channels_redis.core")
    try:
        await layer.group_add("room", "never.reader")
        await layer.group_add("room", "other.reader")
        await layer.group_send("room", {"type": "a.b"})
        await layer.group_send("room", {"type": "a.b"})  # both members are full now
        await layer.send("never.reader", {"type": "a.c"})  # refused: ChannelFull raised
    except Exception as exc:
        assert type(exc).__name__ == "ChannelFull"
    finally:
        await layer.flush()
    sends = [o for o in instrumented.sink.of(LayerOp) if o.op in ("group_send", "send")]
    assert [(o.op, o.recipients, o.dropped, o.error) for o in sends] == [
        ("group_send", 2, 0, None),
        ("group_send", 2, 2, "ChannelFull"),
        ("send", None, 1, "ChannelFull"),
    ]
    # The project's logging is unchanged: the INFO line stays below the level it had.
    assert logger.getEffectiveLevel() == logging.INFO
    assert not any(
        f.filter(_info_record()) for f in logger.filters if isinstance(f, logging.Filter)
    )


def _info_record() -> logging.LogRecord:
    return logging.LogRecord("channels_redis.core", logging.INFO, "", 0, "x", None, None)


async def test_redis_pubsub_layer_is_recorded(
    instrumented: Instrumented, layer_with: Any, redis_url: str
) -> None:
    layer = layer_with(RedisPubSubChannelLayer(hosts=[redis_url], prefix="asgi-dash-test-ps"))
    try:
        async with chat(instrumented.app) as alice:
            await alice.send_json({"message": "pubsub"})
            assert (await alice.receive_json())["message"] == "pubsub"
    finally:
        await layer.flush()
    ops = instrumented.sink.of(LayerOp)
    assert [o.op for o in ops] == ["group_add", "group_send", "group_discard"]
    assert all(o.layer == "RedisPubSubChannelLayer" for o in ops)
    assert ops[1].size is not None and ops[1].size > 0 and ops[1].recipients is None


async def test_redis_expiry_seen_by_send_and_group_send_is_counted(
    instrumented: Instrumented, layer_with: Any, redis_url: str
) -> None:
    # expiry=1: channels_redis removes messages older than a whole second at the next send to
    # the same key (the key itself lives while sends keep refreshing its EXPIRE).
    layer = layer_with(RedisChannelLayer(hosts=[redis_url], prefix="asgi-dash-test-exp", expiry=1))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 6  # the second boundary is at most ~2 s away
    try:
        await layer.group_add("room", "ghost.two")
        while loop.time() < deadline:
            await layer.send("ghost.one", {"type": "a.b"})
            await layer.group_send("room", {"type": "a.c"})
            found = {o.channel for o in instrumented.sink.of(LayerOp) if o.op == "expired"}
            if len(found) == 2:
                break
            await asyncio.sleep(0.2)  # waiting for time itself to pass: the thing under test
    finally:
        await layer.flush()
    expired = [o for o in instrumented.sink.of(LayerOp) if o.op == "expired"]
    assert {o.channel for o in expired} == {
        "asgi-dash-test-expghost.one",
        "asgi-dash-test-expghost.two",
    }
    assert all(o.dropped >= 1 and o.error and "Redis" in o.error for o in expired)


async def test_redis_receive_buffer_overflow_is_counted(
    instrumented: Instrumented, layer_with: Any, redis_url: str
) -> None:
    # Two process-local channels share one Redis key; the receiver of one buffers the other's
    # messages in a BoundedQueue of ``capacity`` (1 here), which drops the oldest when full.
    layer = layer_with(
        RedisChannelLayer(
            hosts=[redis_url],
            prefix="asgi-dash-test-ovf",
            capacity=1,
            channel_capacity={"specific*": 10},  # the Redis side takes them all
        )
    )
    try:
        x, y = await layer.new_channel(), await layer.new_channel()
        await layer.send(x, {"type": "first.one"})
        await layer.send(x, {"type": "second.one"})
        await layer.send(y, {"type": "for.y"})
        assert (await asyncio.wait_for(layer.receive(y), 10))["type"] == "for.y"
        assert (await asyncio.wait_for(layer.receive(x), 10))["type"] == "second.one"
    finally:
        await layer.flush()
    (lost,) = [o for o in instrumented.sink.of(LayerOp) if o.op == "overflow"]
    assert (lost.dropped, lost.msg_type, lost.layer) == (1, "first.one", "RedisChannelLayer")
