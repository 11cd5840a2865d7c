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
