"""Child side of the pipeline capacity benchmark: the real tap and the real PipeSink, no HTTP.

Run as ``python -m bench.pipeline_producer N FD [RATE]``: wraps a tiny ASGI app (the same
response shape as the demo's ``/sync/?ms=0``: 7 headers, a small JSON body) in
:class:`~asgi_dashboard.instrument.tap.InstrumentedApp` and calls it ``N`` times on one event
loop, so each call produces one ``RequestFinished`` through ``PipeSink`` into pipe ``FD``. HTTP
parsing is left out on purpose: no server on this machine reaches the rates being measured
(uvicorn + Django serve a few hundred requests/s here), so this isolates the pipeline itself.
``RATE`` (events/s, 0 = as fast as possible) paces production in steps of 1 ms.

Prints one JSON line on stdout when it has produced everything and another when the sink has
written everything (bounded waits).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from asgi_dashboard.instrument.sink import PipeSink
from asgi_dashboard.instrument.tap import InstrumentedApp

HEADERS = [
    (b"content-type", b"application/json"),
    (b"x-frame-options", b"DENY"),
    (b"content-length", b"58"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"server-timing", b"app;dur=0.4"),
]
BODY = b'{"view": "sync", "slept_ms": 0, "thread": "ThreadPoolExecutor-0_0"}'
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/sync/",
    "query_string": b"ms=0",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
    "client": ("127.0.0.1", 50000),
}


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    return None


async def produce(n: int, fd: int, rate: float) -> None:
    sink = PipeSink(fd)
    tapped = InstrumentedApp(app, sink, generation=1)
    started = time.time()
    t0 = time.perf_counter()
    per_ms = rate / 1000 if rate else 0.0
    for i in range(n):
        await tapped(SCOPE, receive, send)
        if per_ms and i % max(1, int(per_ms)) == 0:
            # Pace: sleep until where the schedule says event i should be.
            ahead = t0 + i / rate - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)
    produced_s = time.perf_counter() - t0
    print(json.dumps({"produced": n, "started": started, "produce_s": produced_s}), flush=True)
    deadline = time.monotonic() + 60
    while sink._queue and time.monotonic() < deadline:  # bounded wait for the writer
        await asyncio.sleep(0.005)
    sink.close()
    print(json.dumps({"flushed": not sink._queue, "pending": len(sink._queue)}), flush=True)


def main() -> None:
    n, fd = int(sys.argv[1]), int(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    asyncio.run(produce(n, fd, rate))


if __name__ == "__main__":
    main()
