"""Run ``asgi-dash --headless --json`` as a real process and read its events back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO_DIR

Event = dict[str, Any]


class HeadlessRun:
    """One ``asgi-dash --headless --json`` process; every wait is bounded."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: list[Event] = []
        self._cursor = 0
        self.stderr = b""

    async def next_event(self, timeout: float) -> Event:
        if self._cursor < len(self.events):
            self._cursor += 1
            return self.events[self._cursor - 1]
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise EOFError("asgi-dash exited: " + (await self._stderr()))
        self.events.append(json.loads(line))
        self._cursor += 1
        return self.events[-1]

    async def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 20.0) -> Event:
        """The next event (after those already consumed) that matches, within ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching event in {timeout} s; saw {self.events[-5:]}")
            event = await self.next_event(remaining)
            if predicate(event):
                return event

    async def wait_event(self, name: str, timeout: float = 20.0, **fields: Any) -> Event:
        return await self.wait_for(
            lambda e: e["event"] == name and all(e.get(k) == v for k, v in fields.items()),
            timeout,
        )

    async def _stderr(self) -> str:
        assert self.process.stderr is not None
        with contextlib.suppress(TimeoutError):
            self.stderr += await asyncio.wait_for(self.process.stderr.read(), 5)
        return self.stderr.decode(errors="replace")

    async def stop(self, timeout: float = 15.0) -> int:
        """Ctrl+C, as a user would; returns the exit code."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGINT)
        # Keep reading stdout meanwhile: a test that stopped reading events early leaves the
        # pipe full, and asgi-dash would block writing to it instead of shutting down.
        pump = asyncio.create_task(self._keep_events())
        try:
            return await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pump, 5)

    async def _keep_events(self) -> None:
        """Read the remaining lines into ``events`` (unconsumed: ``next_event`` still sees them)."""
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.events.append(json.loads(line))

    async def drain(self, timeout: float = 10.0) -> list[Event]:
        """Every remaining event until the process closes stdout."""
        with contextlib.suppress(EOFError):
            while True:
                await self.next_event(timeout)
        return self.events


def _clean_environ() -> dict[str, str]:
    # The test process itself is configured for the demo; a launched asgi-dash must discover.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}


async def launch(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> HeadlessRun:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asgi_dashboard",
        "--headless",
        "--json",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        cwd=cwd,
        env={**_clean_environ(), **(env or {})},
        # One event per line, and a line can pass asyncio's 64 KiB default: a request event
        # carries up to 64 KiB of body preview plus headers (tests/faults/test_large_payloads).
        limit=16 * 1024 * 1024,
    )
    return HeadlessRun(process)


@pytest.fixture
async def demo_server(tmp_path: Path) -> AsyncIterator[tuple[HeadlessRun, str]]:
    """The demo project under ``asgi-dash --headless --json --port 0`` (child mode)."""
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        yield run, started["url"]
    finally:
        if run.process.returncode is None:
            await run.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive for our purposes: check /proc.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"
    return True
