"""Fork safety: a process already attached forks; parent and child each keep their own
connection (the fork hook makes the child start its own sender, and leaves the parent's alone)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from asgi_dashboard.events import Event, ProcessAttached, ProcessDetached, RequestFinished
from asgi_dashboard.runtime.collector import CollectorRuntime

from .support import short_dir
from .test_attach_units import collecting, until

SCRIPT = Path(__file__).with_name("fork_script.py")


async def test_parent_and_forked_child_report_separately() -> None:
    got: list[Event] = []

    def on_events(batch: Sequence[Event]) -> None:
        got.extend(batch)

    with short_dir() as folder:
        sock = folder / "c.sock"
        runtime = CollectorRuntime(collecting(sock), on_events)
        await runtime.start()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), str(sock), stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 0
            await until(lambda: sum(isinstance(e, ProcessDetached) for e in got) == 2)
        finally:
            await runtime.stop()
    sides = dict(line.split() for line in out.decode().splitlines())
    parent, child = int(sides["parent"]), int(sides["child"])
    hellos = {e.pid: e for e in got if isinstance(e, ProcessAttached)}
    assert set(hellos) == {parent, child}
    assert hellos[child].ppid == parent
    assert hellos[parent].worker != hellos[child].worker
    # "/start" starts a sender; it is recorded only if the connection won the race with it.
    paths = {
        (e.worker_pid, e.path) for e in got if isinstance(e, RequestFinished) and e.path != "/start"
    }
    assert paths == {
        (parent, "/before-fork"),
        (parent, "/parent-after-fork"),
        (child, "/child"),
    }


EXITS_AT_ONCE = """
import asyncio, sys, time
from asgi_dashboard.attaching.wrapper import AttachedApp

async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

async def call(wrapped):
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        pass
    await wrapped({"type": "http", "method": "GET", "path": "/last", "headers": []}, receive, send)

wrapped = AttachedApp(app, sys.argv[1])
sink = wrapped.start()
deadline = time.monotonic() + 10
while not sink.connected and time.monotonic() < deadline:
    time.sleep(0.01)
asyncio.run(call(wrapped))
sys.exit(0)  # at once: the event is still in the 20 ms batch window
"""


async def test_a_process_that_exits_sends_what_it_queued_first() -> None:
    got: list[Event] = []
    with short_dir() as folder:
        sock = folder / "c.sock"
        runtime = CollectorRuntime(collecting(sock), got.extend)
        await runtime.start()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", EXITS_AT_ONCE, str(sock)
            )
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            await until(lambda: any(isinstance(e, ProcessDetached) for e in got))
        finally:
            await runtime.stop()
    assert [e.path for e in got if isinstance(e, RequestFinished)] == ["/last"]
