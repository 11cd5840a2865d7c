"""Run by test_attach_fork.py: a process that is attached, then forks (as a gunicorn master
with an application that already served would), each side sending one request after the fork.

argv: SOCKET. Prints one line per side: "parent PID" / "child PID", after its request is sent.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import MutableMapping
from typing import Any

from asgi_dashboard.attaching.wrapper import AttachedApp


async def hello_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


async def get(app: AttachedApp, path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    await app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)


def connected_request(app: AttachedApp, path: str) -> None:
    """Start (or reuse) this process's sender, wait for the collector, send one request."""
    asyncio.run(get(app, "/start"))
    deadline = time.monotonic() + 10
    while not (app.sink is not None and app.sink.connected):
        assert time.monotonic() < deadline, "no connection"
        time.sleep(0.01)
    asyncio.run(get(app, path))
    app.sink.flush()


def main() -> None:
    app = AttachedApp(hello_app, sys.argv[1])
    connected_request(app, "/before-fork")
    pid = os.fork()
    if pid == 0:
        forgotten = app.sink is None  # the fork hook forgot the parent's sender
        assert forgotten
        connected_request(app, "/child")
        print(f"child {os.getpid()}", flush=True)
        assert app.sink is not None
        app.sink.close()
        os._exit(0)
    os.waitpid(pid, 0)
    assert app.sink is not None and app.sink.connected  # the child's exit left ours alone
    asyncio.run(get(app, "/parent-after-fork"))
    app.sink.flush()
    print(f"parent {os.getpid()}", flush=True)
    app.sink.close()


if __name__ == "__main__":
    main()
