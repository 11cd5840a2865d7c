"""Helpers of the fault battery: process trees read from /proc, a background event reader.

The real server is started with the runtime tests' helpers (``tests/runtime/conftest.py``:
``launch``, ``HeadlessRun``, the ``demo_server`` fixture); what this adds is what those tests did
not need: every process a dashboard started (children and grandchildren, read from /proc before
anything is killed) and a bounded wait for all of them to be gone, and a reader that keeps
consuming ``--json`` lines while a test floods the server, so a full stdout pipe never slows the
dashboard down (nor makes it drop events) because the test was busy sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.typing import Origin

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import Event, HeadlessRun, launch

#: AllowedHostsOriginValidator rejects a handshake without Origin.
ORIGIN = Origin("http://127.0.0.1")


@dataclass(frozen=True)
class Proc:
    """A process identified by PID *and* start time, so a reused PID is never mistaken for it."""

    pid: int
    start_ticks: int

    def alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[1] == self.start_ticks and stat[0] != "Z"


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, start time in clock ticks, parent PID) of a process, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state, ppid, ... starttime is field 22 of stat(5), index 19 here.
    return fields[0], int(fields[19]), int(fields[1])


def descendants(root: int) -> list[Proc]:
    """Every live process below ``root`` (children, grandchildren...), from one /proc scan."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat(int(entry))
        if stat is None or stat[0] == "Z":
            continue
        children.setdefault(stat[2], []).append(int(entry))
        starts[int(entry)] = stat[1]
    found: list[Proc] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(Proc(pid, starts[pid]))
        todo.extend(children.get(pid, []))
    return found


async def wait_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    """Poll (bounded) until none of ``procs`` is alive; returns those alive at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = [p for p in procs if p.alive()]
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0.05)


def end_leftovers(procs: list[Proc]) -> None:
    """After a failed check: SIGKILL (by PID) the processes our own dashboard started."""
    for proc in procs:
        if proc.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


def who_listens(port: int) -> str:
    """``ss`` output for a port (for failure messages): which process still holds it."""
    import subprocess

    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(
            ["ss", "-Htanp", f"sport = :{port}"], capture_output=True, text=True, timeout=10
        ).stdout
    return "(ss unavailable)"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def nobody_listens(port: int) -> bool:
    """True when a connection to ``port`` is refused (no listening socket, not even a backlog)."""
    with socket.socket() as client:
        client.settimeout(2)
        try:
            client.connect(("127.0.0.1", port))
        except (ConnectionRefusedError, TimeoutError):
            return True
    return False


async def wait_port_free(port: int, timeout: float) -> bool:
    """Poll (bounded) until nothing listens on ``port`` and it can be bound again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (port_is_free(port) and nobody_listens(port)):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)
    return True


class EventPump:
    """Reads a ``HeadlessRun``'s stdout into ``run.events`` in the background."""

    def __init__(self, run: HeadlessRun) -> None:
        self.run = run
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stdout = self.run.process.stdout
        assert stdout is not None
        while line := await stdout.readline():
            self.run.events.append(json.loads(line))
            self.changed.set()
        self.changed.set()

    def matching(self, predicate: Callable[[Event], bool]) -> list[Event]:
        return [e for e in self.run.events if predicate(e)]

    async def until(
        self, predicate: Callable[[Event], bool], count: int, timeout: float
    ) -> list[Event]:
        """Wait (bounded) until ``count`` events match; returns the matches found by then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[Event] = []
        seen = 0  # events already looked at: each one is tested once, however long the wait
        while True:
            events = self.run.events
            found.extend(e for e in events[seen:] if predicate(e))
            seen = len(events)
            remaining = deadline - loop.time()
            if len(found) >= count or remaining <= 0 or self.task.done():
                return found
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))
            # Let a burst of lines arrive before looking again.
            await asyncio.sleep(0.01)

    async def settle(self, predicate: Callable[[Event], bool], quiet: float = 1.0) -> list[Event]:
        """The matches once no further event has arrived for ``quiet`` seconds (bounded by it)."""
        while True:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), quiet)
            except TimeoutError:
                return self.matching(predicate)
            if self.task.done():
                return self.matching(predicate)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def demo_pumped(tmp_path: Path) -> AsyncIterator[tuple[HeadlessRun, EventPump, str]]:
    """The demo under ``asgi-dash --headless --json --port 0 --no-reload``, its events pumped."""
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=60)
        pump = EventPump(run)
        try:
            yield run, pump, started["url"]
        finally:
            await pump.close()
    finally:
        if run.process.returncode is None:
            await run.stop()
