"""Figure 9: what the channel-layer tap (asgi_dashboard/instrument/layer.py) costs per message.

In one process, the layer methods are called directly (no consumer, no server), in alternating
blocks with the class attributes swapped between channels' own methods ("raw") and the tap's
wrappers ("tapped", events appended to a list as the child's sink appends to its deque): CPU time
per call (``time.process_time_ns``), median of blocks. Measured: ``group_send`` to a group of two
and ``send`` on the in-memory layer and on channels_redis against a real redis-server (when
``redis-server`` is installed); the part of the in-memory figure that is the message's msgpack
size; and one consumer ``dispatch`` timed by instrument/handlers.py (a HandlerRun per message).

A request that uses no channel layer runs none of this: the tap adds one attribute store per
request (``rec.request_id``), so its per-request cost is 0 within measurement (figure 1b).

``python -m bench.layer`` prints the table alone.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

#: Methods the tap replaces, per class (swapped back and forth between blocks).
_SEAMS = (
    "send",
    "group_send",
    "group_add",
    "group_discard",
    "serialize",
    "_map_channel_keys_to_connection",
    "_clean_expired",
)


@dataclass(frozen=True)
class Result:
    backend: str
    op: str
    raw_us: float
    tapped_us: float

    @property
    def cost_us(self) -> float:
        return self.tapped_us - self.raw_us


class Swapper:
    """The classes' own methods and the tap's wrappers, to switch between per block."""

    def __init__(self, classes: list[type]) -> None:
        self.raw = {(c, n): c.__dict__[n] for c in classes for n in _SEAMS if n in c.__dict__}
        from asgi_dashboard.instrument import layer_backends

        layer_backends.install()
        self.tapped = {key: key[0].__dict__[key[1]] for key in self.raw}

    def use(self, tapped: bool) -> None:
        for (cls, name), fn in (self.tapped if tapped else self.raw).items():
            setattr(cls, name, fn)


def _classes() -> list[type]:
    from channels.layers import InMemoryChannelLayer

    found: list[type] = [InMemoryChannelLayer]
    try:
        from channels_redis.core import RedisChannelLayer
        from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
    except ImportError:
        return found
    return [*found, RedisChannelLayer, RedisPubSubLoopLayer, RedisPubSubChannelLayer]


async def _cpu_per_call(call: Callable[[], Awaitable[Any]], n: int) -> float:
    start = time.process_time_ns()
    for _ in range(n):
        await call()
    return (time.process_time_ns() - start) / n / 1000


async def _pair(
    swap: Swapper,
    call: Callable[[], Awaitable[Any]],
    reset: Callable[[], Awaitable[Any]],
    blocks: int,
    n: int,
) -> tuple[float, float]:
    raw: list[float] = []
    tapped: list[float] = []
    for block in range(blocks * 2):
        on = block % 2 == 1
        swap.use(on)
        (tapped if on else raw).append(await _cpu_per_call(call, n))
        await reset()
    swap.use(True)
    return statistics.median(raw), statistics.median(tapped)


async def _backend(
    name: str, layer: Any, swap: Swapper, blocks: int, n: int, out: list[Result]
) -> None:
    message = {"type": "chat.message", "message": "hello " * 8, "user": "anonymous"}
    await layer.group_add("room", "member.one")
    await layer.group_add("room", "member.two")

    async def reset() -> None:
        await layer.flush()
        await layer.group_add("room", "member.one")
        await layer.group_add("room", "member.two")

    for op, call in (
        ("group_send (2 members)", lambda: layer.group_send("room", message)),
        ("send", lambda: layer.send("member.one", message)),
    ):
        raw, tapped = await _pair(swap, call, reset, blocks, n)
        out.append(Result(name, op, raw, tapped))
    await layer.flush()


async def _dispatch(blocks: int, n: int, out: list[Result]) -> None:
    from asgi_dashboard.instrument import layer
    from asgi_dashboard.instrument.handlers import timed_dispatch
    from asgi_dashboard.instrument.records import ConnectionRecord

    class Consumer:
        channel_name = "bench.channel"

        async def dispatch(self, message: Any) -> None:
            return None

    consumer = Consumer()
    timed = timed_dispatch(consumer, consumer.dispatch, ConnectionRecord(conn_id="1-1"), None)
    message = {"type": "chat.message", "message": "hi"}
    raw: list[float] = []
    tapped: list[float] = []
    for _ in range(blocks):
        raw.append(await _cpu_per_call(lambda: consumer.dispatch(message), n))
        tapped.append(await _cpu_per_call(lambda: timed(message), n))
        _events.clear()
    del layer
    out.append(
        Result(
            "consumer", "dispatch (HandlerRun)", statistics.median(raw), statistics.median(tapped)
        )
    )


_events: list[Any] = []


def _size_cost(n: int) -> Result:
    from asgi_dashboard.instrument.layer import _msgpack_size

    message = {"type": "chat.message", "message": "hello " * 8, "user": "anonymous"}
    start = time.process_time_ns()
    for _ in range(n):
        _msgpack_size(message)
    took = (time.process_time_ns() - start) / n / 1000
    return Result("in-memory", "of which: msgpack size", 0.0, took)


def _settings() -> None:
    from django.conf import settings

    if not settings.configured:
        layer = {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
        settings.configure(CHANNEL_LAYERS={"default": layer})


class _Client:
    """One WebSocket client of the demo's ChatConsumer (asgiref's communicator, no server)."""

    def __init__(self, room: str, tapped: bool, conn_id: str) -> None:
        import sys

        from asgiref.testing import ApplicationCommunicator

        from .projects import DEMO_DIR

        if str(DEMO_DIR) not in sys.path:
            sys.path.insert(0, str(DEMO_DIR))
        from demoapp.consumers import ChatConsumer

        from asgi_dashboard.instrument.handlers import timed_dispatch
        from asgi_dashboard.instrument.records import ConnectionRecord, current_connection

        async def app(scope: Any, receive: Any, send: Any) -> None:
            consumer = ChatConsumer()
            conn = ConnectionRecord(conn_id=conn_id)
            if tapped:  # what the WebSocket tap and hooks.py's consumer patch do
                current_connection.set(conn)
                consumer.dispatch = timed_dispatch(consumer, consumer.dispatch, conn, None)
            await consumer(scope, receive, send)

        scope: dict[str, Any] = {"type": "websocket", "path": f"/ws/chat/{room}/", "headers": []}
        scope["url_route"] = {"args": (), "kwargs": {"room": room}}
        self.io = ApplicationCommunicator(app, scope)

    async def put(self, message: dict[str, Any]) -> None:
        await self.io.send_input(message)

    async def get(self) -> dict[str, Any]:
        got: dict[str, Any] = await self.io.receive_output(5)
        return got


async def _chat(swap: Swapper, blocks: int, n: int, out: list[Result]) -> None:
    """A chat message end to end: client frame, consumer's group_send to two members, both
    chat_message handlers, both frames out. Raw and tapped rooms alternate by block."""
    import json

    rooms: dict[bool, tuple[_Client, _Client]] = {}
    for tapped in (False, True):
        swap.use(tapped)
        pair = (_Client(f"r{tapped:d}", tapped, "1-1"), _Client(f"r{tapped:d}", tapped, "1-2"))
        for client in pair:
            await client.put({"type": "websocket.connect"})
            assert (await client.get())["type"] == "websocket.accept"
        rooms[tapped] = pair
    frame = {"type": "websocket.receive", "text": json.dumps({"message": "hello " * 8})}

    async def one(tapped: bool) -> None:
        alice, bob = rooms[tapped]
        await alice.put(frame)
        await alice.get()
        await bob.get()

    times: dict[bool, list[float]] = {False: [], True: []}
    for block in range(blocks * 2):
        tapped = block % 2 == 1
        swap.use(tapped)
        times[tapped].append(await _cpu_per_call(lambda t=tapped: one(t), n))  # type: ignore[misc]
        _events.clear()
    swap.use(True)
    raw, tapped_us = statistics.median(times[False]), statistics.median(times[True])
    out.append(Result("in-memory", "chat message end to end (2 members)", raw, tapped_us))


async def _run(blocks: int, n: int, redis_url: str | None) -> list[Result]:
    from channels.layers import InMemoryChannelLayer

    from asgi_dashboard.instrument import layer

    _settings()
    swap = Swapper(_classes())
    layer.set_sink(_events.append)
    out: list[Result] = []
    await _backend("in-memory", InMemoryChannelLayer(capacity=n * 4), swap, blocks, n, out)
    _events.clear()
    out.append(_size_cost(n * 10))
    if redis_url is not None:
        from channels_redis.core import RedisChannelLayer

        redis = RedisChannelLayer(hosts=[redis_url], prefix="bench-layer", capacity=n * 4)
        await _backend("redis", redis, swap, blocks, max(50, n // 10), out)
        await redis.close_pools()
        _events.clear()
    await _dispatch(blocks, n, out)
    await _chat(swap, blocks, max(50, n // 5), out)
    layer.set_sink(None)
    return out


def measure(blocks: int = 10, n: int = 500, redis: bool = True) -> list[Result]:
    """Run the figure (a redis-server is started on a free loopback port when ``redis``)."""
    import shutil

    if not redis or shutil.which("redis-server") is None:
        return asyncio.run(_run(blocks, n, None))
    from tests.support.redis_server import running_redis

    with running_redis() as url:
        return asyncio.run(_run(blocks, n, url))


def table(results: list[Result]) -> list[list[str]]:
    rows = [["backend", "operation", "raw µs/call", "tapped µs/call", "tap cost µs"]]
    for r in results:
        raw = f"{r.raw_us:.1f}" if r.raw_us else "-"
        rows.append([r.backend, r.op, raw, f"{r.tapped_us:.1f}", f"{r.cost_us:+.1f}"])
    return rows


def measure_in_child(blocks: int = 10, n: int = 500, timeout_s: float = 300) -> list[Result]:
    """:func:`measure` in a child process (it configures Django and patches Channels' classes:
    not something to leave in the runner's process)."""
    import dataclasses
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "bench.layer", "--json", str(blocks), str(n)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=True,
    )
    fields = {f.name for f in dataclasses.fields(Result)}
    return [
        Result(**{k: v for k, v in row.items() if k in fields}) for row in json.loads(done.stdout)
    ]


def main(argv: list[str]) -> None:
    if argv[:1] == ["--json"]:
        import dataclasses
        import json

        blocks, n = (int(v) for v in argv[1:3])
        print(json.dumps([dataclasses.asdict(r) for r in measure(blocks, n)]))
        return
    from .report import markdown_table

    print(markdown_table(table(measure())))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
