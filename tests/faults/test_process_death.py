"""The dashboard killed or terminated: no server process outlives it, the port is freed.

``tests/runtime/test_headless_server.py`` already checks that the first server process exits
after a SIGKILL of an idle dashboard. Here the whole tree is checked (children *and*
grandchildren: after a reload the serving generation is a fork of the warm process, i.e. a
grandchild of the dashboard), read from /proc before the signal, with a request and a WebSocket
still open when the signal arrives; also with the TUI on a terminal, and SIGTERM.

Every process checked is one our own ``asgi-dash`` started; if one outlives the bound the test
fails, and then ends it by PID so it does not leak into the next test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import DEMO_DIR
from tests.faults.conftest import (
    ORIGIN,
    EventPump,
    Proc,
    descendants,
    end_leftovers,
    wait_gone,
    wait_port_free,
    who_listens,
)
from tests.runtime.conftest import HeadlessRun, _clean_environ, launch

pytestmark = pytest.mark.slow

#: The dashboard's own death is immediate (SIGKILL); its server processes get SIGTERM from the
#: kernel (PR_SET_PDEATHSIG) and a graceful timeout of 1 s: 15 s is generous for a loaded runner.
ORPHAN_BOUND_S = 15.0
PORT_BOUND_S = 5.0


def copy_demo(tmp_path: Path) -> Path:
    """A copy of the demo, so a test can edit its files to make the dashboard reload."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, root, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    return root


async def start(
    tmp_path: Path, *, reload_once: bool, no_fork: bool = False
) -> tuple[HeadlessRun, dict[str, Any], Path]:
    """The demo copy under ``asgi-dash --headless --json``; after a first request, and with
    ``reload_once`` after one source edit has been served by a second generation."""
    root = copy_demo(tmp_path)
    run = await launch(
        str(root),
        "--port",
        "0",
        *([] if reload_once else ["--no-reload"]),
        env={
            "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"),
            "ASGI_DASH_NO_FORK": "1" if no_fork else "",
        },
    )
    started = await run.wait_event("server-started", timeout=60)
    async with httpx.AsyncClient(base_url=started["url"], timeout=20) as client:
        assert (await client.get("/sync/?ms=0")).status_code == 200
    if reload_once:
        views = root / "demoapp" / "views.py"
        views.write_text(views.read_text() + "\n# edited by the fault battery\n")
        # ServerStarted of generation 2 and ReloadFinished may come in either order.
        started = await run.wait_event("server-started", timeout=60, generation=2)
        finished = [e for e in run.events if e["event"] == "reload-finished"]
        if not finished:
            finished = [await run.wait_event("reload-finished", timeout=30)]
        assert finished[0]["ok"], finished
    return run, started, root


@contextlib.asynccontextmanager
async def busy(url: str) -> AsyncIterator[None]:
    """A sync view sleeping 30 s on a worker thread and an open WebSocket, both in flight."""
    port = int(url.rsplit(":", 1)[1])
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(b"GET /sync/?ms=30000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    ws_url = url.replace("http://", "ws://") + "/ws/echo/"
    try:
        async with websockets.connect(ws_url, origin=ORIGIN, open_timeout=20) as ws:
            await ws.send("still here")
            assert await asyncio.wait_for(ws.recv(), 20) == "You said: still here"
            yield
    except websockets.exceptions.ConnectionClosed:
        pass  # the server went away under it: that is the point
    finally:
        slow.close()


async def assert_tree_ends(procs: list[Proc], port: int) -> None:
    left = await wait_gone(procs, ORPHAN_BOUND_S)
    try:
        assert not left, f"still alive {ORPHAN_BOUND_S} s later: {left}"
    finally:
        end_leftovers(left)
    # The kernel may close the listening socket a moment after its last holder is gone.
    assert await wait_port_free(port, PORT_BOUND_S), who_listens(port)


@pytest.mark.parametrize(
    ("reload_once", "no_fork"),
    [(False, False), (False, True), (True, False), (True, True)],
    ids=["first-forked", "first-spawned", "after-reload-forked", "after-reload-spawned"],
)
async def test_sigkill_of_the_dashboard_leaves_no_server_process(
    tmp_path: Path, reload_once: bool, no_fork: bool
) -> None:
    run, started, _ = await start(tmp_path, reload_once=reload_once, no_fork=no_fork)
    try:
        async with busy(started["url"]):
            procs = descendants(run.process.pid)
            assert started["pid"] in {p.pid for p in procs}, (started, procs)
            os.kill(run.process.pid, signal.SIGKILL)  # the dashboard we started, by PID
            assert await asyncio.wait_for(run.process.wait(), 10) == -signal.SIGKILL
        await assert_tree_ends(procs, started["port"])
    finally:
        if run.process.returncode is None:
            await run.stop()


async def test_sigterm_stops_cleanly_and_frees_the_port(tmp_path: Path) -> None:
    run, started, _ = await start(tmp_path, reload_once=True)
    pump = EventPump(run)  # keep reading stdout: shutdown events must not block on a full pipe
    try:
        async with busy(started["url"]):
            procs = descendants(run.process.pid)
            assert started["pid"] in {p.pid for p in procs}
            run.process.send_signal(signal.SIGTERM)  # the dashboard we started
            # Graceful timeout 1 s for the request and the WebSocket, then the exit.
            code = await asyncio.wait_for(run.process.wait(), ORPHAN_BOUND_S)
        assert code == 0
        await assert_tree_ends(procs, started["port"])
        await asyncio.wait_for(pump.task, 10)  # EOF: every event is in run.events
        stopped = [e for e in run.events if e["event"] == "server-stopped" and e["generation"] == 2]
        assert stopped and stopped[-1]["reason"] == "requested", run.events[-5:]
        stderr = await run._stderr()
        assert "Traceback" not in stderr, stderr
    finally:
        await pump.close()
        if run.process.returncode is None:
            await run.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sigkill_of_the_tui_leaves_no_server_process(tmp_path: Path) -> None:
    """``asgi-dash`` on a terminal (the TUI, child mode): kill it, its server must go too."""
    port = free_port()
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()

    def drain() -> None:  # keep the terminal readable so the TUI never blocks writing
        with contextlib.suppress(OSError):
            os.read(master, 1 << 16)

    loop.add_reader(master, drain)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asgi_dashboard",
        str(copy_demo(tmp_path)),
        "--port",
        str(port),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={
            **_clean_environ(),
            "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"),
            "TERM": "xterm-256color",
            "COLUMNS": "120",
            "LINES": "40",
        },
    )
    os.close(slave)
    try:
        deadline = loop.time() + 60
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while True:
                assert process.returncode is None, "the TUI exited on its own"
                assert loop.time() < deadline, "the TUI's server never answered"
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/sync/?ms=0")).status_code == 200:
                        break
                await asyncio.sleep(0.1)  # polling a port that is not open yet: bounded above
        async with busy(f"http://127.0.0.1:{port}"):
            procs = descendants(process.pid)
            assert procs, "the TUI runs its server in a child process"
            os.kill(process.pid, signal.SIGKILL)
            assert await asyncio.wait_for(process.wait(), 10) == -signal.SIGKILL
        await assert_tree_ends(procs, port)
    finally:
        loop.remove_reader(master)
        os.close(master)
        if process.returncode is None:
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
