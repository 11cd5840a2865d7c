"""The server process dies on its own: the dashboard answers with a 503 at once, restarts it with a
backoff, and stops retrying on a crash loop until a save or a restart.

Real ``asgi-dash --headless --json`` processes (or a real :class:`ChildRuntime` in this process,
to call ``restart()`` as the ``r`` key does) on a copy of the demo project; real SIGKILLs and
``os._exit`` calls in views; every wait bounded. Only processes these tests started are killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.events import Event, ServerStarted, ServerStopped
from asgi_dashboard.runtime.crash import (
    CRASH_LOOP_COUNT,
    CrashPolicy,
    StandInRequest,
    StandInServer,
)
from asgi_dashboard.runtime.sockets import bind_socket, url_for
from asgi_dashboard.runtime.supervisor import ChildRuntime
from tests.runtime.conftest import HeadlessRun, launch
from tests.runtime.test_reload import VIEWS, copy_demo, edit, poll_until

pytestmark = [pytest.mark.timeout(90)]

DIE_VIEW = '''

def die(request):
    """Test only: the server process ends itself, as a crash in a C extension would."""
    import os
    import sys

    print("dying on purpose", file=sys.stderr, flush=True)
    os._exit(7)
'''
#: Appended to views.py: the server dies while importing the URLconf when the flag file exists.
CRASH_ON_IMPORT = """import os as _os
if _os.path.exists(_os.environ.get("CRASH_FLAG", "/nonexistent")):
    _os._exit(9)
"""


def crashing_demo(tmp_path: Path) -> Path:
    project = copy_demo(tmp_path)
    views = project / VIEWS
    views.write_text(views.read_text() + DIE_VIEW + CRASH_ON_IMPORT)
    edit(
        project / "demosite/urls.py",
        'path("hit/", views.hit),',
        'path("hit/", views.hit),\n    path("die/", views.die),',
    )
    return project


@pytest.fixture
async def crashy(tmp_path: Path) -> AsyncIterator[tuple[HeadlessRun, Path, str]]:
    project = crashing_demo(tmp_path)
    run = await launch(
        str(project),
        "--port",
        "0",
        env={
            "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"),
            "CRASH_FLAG": str(tmp_path / "crash.flag"),
        },
    )
    try:
        await run.wait_event("server-started", timeout=30)
        yield run, project, run.events[-1]["url"]
    finally:
        if run.process.returncode is None:
            await run.stop()


async def get_fresh(url: str, path: str, timeout: float) -> httpx.Response:
    """One GET on a new connection (through the shared listening socket)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        return await client.get(path)


def test_crash_policy_backs_off_and_stops_on_a_loop() -> None:
    policy = CrashPolicy()
    assert policy.crashed(ran_s=600.0) == 0.5  # a long-running server: restart soon
    assert policy.crashed(ran_s=0.3) == 1.0  # died again right after starting
    assert policy.crashed(ran_s=None) == 2.0  # died before it started
    assert policy.crashed(ran_s=0.1) is None and policy.looping
    policy.reset()  # a save or `r`
    assert not policy.looping and policy.crashed(ran_s=None) == 1.0
    assert CRASH_LOOP_COUNT == 3


async def test_stand_in_answers_every_request_with_503_and_logs_it() -> None:
    sock = bind_socket("127.0.0.1", 0)
    seen: list[StandInRequest] = []
    standin = StandInServer(sock, lambda: b"<h1>The server crashed</h1>", seen.append)
    await standin.start()
    try:
        url = url_for(sock, "127.0.0.1")
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            page = await client.get("/a/?x=1")
            # A body the stand-in never reads must not turn the answer into a reset.
            posted = await client.post("/form/", content=b"x" * 200_000)
            head = await client.head("/h/")
        assert page.status_code == posted.status_code == head.status_code == 503
        assert page.headers["retry-after"] == "1" and "crashed" in page.text
        assert head.content == b""
        assert [(r.method, r.path, r.query) for r in seen] == [
            ("GET", "/a/", "x=1"),
            ("POST", "/form/", ""),
            ("HEAD", "/h/", ""),
        ]
        standin.close()
        # Closed: the socket is still bound and listening (the next generation's), unanswered.
        reader, writer = await asyncio.open_connection("127.0.0.1", sock.getsockname()[1])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)
        writer.close()
    finally:
        standin.close()
        sock.close()


@pytest.mark.slow
async def test_sigkill_is_answered_with_503_at_once_and_the_server_comes_back(
    crashy: tuple[HeadlessRun, Path, str],
) -> None:
    run, _, url = crashy
    first = next(e for e in run.events if e["event"] == "server-started")
    assert (await get_fresh(url, "/sync/?ms=0", 5)).status_code == 200
    os.kill(first["pid"], signal.SIGKILL)  # the server process this test's asgi-dash started
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    page = await get_fresh(url, "/sync/?ms=0", 1.0)  # a hang would time out here
    assert loop.time() - t0 < 1.0
    assert page.status_code == 503, page.text
    assert page.headers["retry-after"] == "1"
    assert "crashed" in page.text and "SIGKILL" in page.text and "restarts it" in page.text
    stopped = await run.wait_event("server-stopped", timeout=10, reason="crashed")
    # 0.5 s, or 1 s when it had been serving for less than QUICK_CRASH_S (a quick crash).
    assert stopped["signal"] == "SIGKILL" and stopped["restart_in_s"] in (0.5, 1.0)
    assert not stopped["crash_loop"]
    # Back by itself, no save needed; the request the stand-in answered was logged.
    back = await run.wait_event("server-started", timeout=20)
    assert back["generation"] == first["generation"] + 1 and back["pid"] != first["pid"]
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        response = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
    assert response.json()["view"] == "sync"
    logged = [e for e in run.events if e["event"] == "request" and e["status"] == 503]
    assert logged and logged[0]["path"] == "/sync/"


@pytest.mark.slow
async def test_os_exit_in_a_view_shows_exit_code_and_stderr_then_restarts(
    crashy: tuple[HeadlessRun, Path, str],
) -> None:
    run, _, url = crashy
    with pytest.raises(httpx.TransportError):  # the connection died with the process
        await get_fresh(url, "/die/", 5)
    page = await get_fresh(url, "/sync/?ms=0", 1.0)
    assert page.status_code == 503
    stopped = await run.wait_event("server-stopped", timeout=10, reason="crashed")
    assert stopped["exit_code"] == 7 and "dying on purpose" in stopped["stderr_tail"]
    page = await get_fresh(url, "/sync/?ms=0", 1.0)
    if page.status_code == 503:  # still down: the page now has the stderr tail
        assert "exit code 7" in page.text and "dying on purpose" in page.text
    await run.wait_event("server-started", timeout=20)
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)


@pytest.mark.slow
async def test_a_crash_loop_stops_retrying_until_a_save(
    crashy: tuple[HeadlessRun, Path, str], tmp_path: Path
) -> None:
    run, project, url = crashy
    flag = tmp_path / "crash.flag"  # outside the project: not watched
    flag.write_text("1")
    edit(project / VIEWS, '_slept("sync", ms)', '_slept("sync-2", ms)')  # now dies at import
    crashes: list[dict[str, Any]] = []
    while not crashes or not crashes[-1]["crash_loop"]:
        crashes.append(await run.wait_event("server-stopped", timeout=20, reason="crashed"))
        assert len(crashes) <= CRASH_LOOP_COUNT
    assert [c["restart_in_s"] for c in crashes] == [1.0, 2.0, None]
    assert all(c["exit_code"] == 9 for c in crashes)
    page = await get_fresh(url, "/sync/?ms=0", 1.0)
    assert page.status_code == 503 and "stopped restarting" in page.text
    # No automatic restart any more (watched for longer than the longest backoff) ...
    with pytest.raises(TimeoutError):
        await run.wait_event("server-starting", timeout=2.5)
    # ... until a save starts one (and this one works).
    flag.unlink()
    edit(project / VIEWS, '_slept("sync-2", ms)', '_slept("fixed", ms)')
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        response = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
    assert response.json()["view"] == "fixed"


@pytest.mark.slow
async def test_restart_brings_a_crash_looping_server_back(tmp_path: Path) -> None:
    project = crashing_demo(tmp_path)
    flag = tmp_path / "crash.flag"
    events: asyncio.Queue[Event] = asyncio.Queue()
    config = DashboardConfig(
        project_dir=project,
        settings_module="demosite.settings",
        settings_source="--settings",
        port=0,
        reload=False,
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"), "CRASH_FLAG": str(flag)},
    )

    def queue_batch(batch: Sequence[Event]) -> None:
        for e in batch:
            events.put_nowait(e)

    runtime = ChildRuntime(config, queue_batch)

    async def next_of(kind: type[Any], timeout: float = 30) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = await asyncio.wait_for(events.get(), max(0.01, deadline - loop.time()))
            if isinstance(event, kind):
                return event

    await runtime.start()
    try:
        started: ServerStarted = await next_of(ServerStarted)
        flag.write_text("1")
        os.kill(started.pid, signal.SIGKILL)  # our own child
        while True:
            stopped: ServerStopped = await next_of(ServerStopped)
            if stopped.crash_loop:
                break
        assert runtime.state == "crashed"
        assert (await get_fresh(started.url, "/sync/?ms=0", 1.0)).status_code == 503
        flag.unlink()
        await runtime.restart()  # what `r` does
        again: ServerStarted = await next_of(ServerStarted)
        assert again.generation > started.generation
        assert (await get_fresh(started.url, "/sync/?ms=0", 5)).status_code == 200
    finally:
        await runtime.stop()


def test_the_shared_listening_socket_stays_non_blocking_across_dups() -> None:
    """O_NONBLOCK is shared by every process holding the socket: a dup() of a socket object in
    blocking mode would clear it under another process's asyncio loop (which then blocks in
    accept()). The dashboard's socket, and any socket object rebuilt from its fd as the server
    processes do, keep it set."""
    import fcntl

    sock = bind_socket("127.0.0.1", 0)
    try:
        rebuilt = socket.socket(fileno=os.dup(sock.fileno()))
        rebuilt.setblocking(False)  # what runtime/child.py does with the inherited fd
        for copy in (sock.dup(), rebuilt.dup(), rebuilt):
            assert fcntl.fcntl(sock.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
            copy.close()
    finally:
        sock.close()


@pytest.mark.slow
async def test_dashboard_keeps_reading_events_while_clients_hammer_the_stand_in(
    tmp_path: Path,
) -> None:
    """Clients keep connecting while the stand-in answers and a fresh interpreter starts: the
    restarted server must be seen (its events read) and answer, twice in a row."""
    events: asyncio.Queue[Event] = asyncio.Queue()
    config = DashboardConfig(
        project_dir=copy_demo(tmp_path),
        settings_module="demosite.settings",
        settings_source="--settings",
        port=0,
        reload=False,  # every generation a fresh interpreter: the widest restart window
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )

    def queue_batch(batch: Sequence[Event]) -> None:
        for e in batch:
            events.put_nowait(e)

    runtime = ChildRuntime(config, queue_batch)
    loop = asyncio.get_running_loop()

    async def started(timeout: float = 40) -> ServerStarted:
        deadline = loop.time() + timeout
        while True:
            event = await asyncio.wait_for(events.get(), max(0.01, deadline - loop.time()))
            if isinstance(event, ServerStarted):
                return event

    await runtime.start()
    try:
        server = await started()
        for _ in range(2):
            os.kill(server.pid, signal.SIGKILL)  # our own child
            limits = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=server.url, timeout=5, limits=limits) as client:
                deadline = loop.time() + 40
                seen: set[int] = set()
                while 200 not in seen:
                    assert loop.time() < deadline, f"no 200 within 40 s; saw {seen}"
                    with contextlib.suppress(httpx.TransportError):
                        seen.add((await client.get("/sync/?ms=0")).status_code)
            assert 503 in seen
            server = await started(timeout=5)  # its event was read, not stuck in the pipe
            runtime.crashes.reset()
    finally:
        await runtime.stop()


@pytest.mark.slow
async def test_headless_without_reload_exits_1_on_a_crash_and_announces_no_restart(
    tmp_path: Path,
) -> None:
    project = crashing_demo(tmp_path)
    run = await launch(
        str(project),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        await run.wait_event("server-started", timeout=30)
        url = run.events[-1]["url"]
        with pytest.raises(httpx.TransportError):
            await get_fresh(url, "/die/", 5)
        stopped = await run.wait_event("server-stopped", timeout=10, reason="crashed")
        # The run ends here (documented exit 1), so no restart may be promised.
        assert stopped["restart_in_s"] is None and stopped["crash_loop"] is False
        assert await asyncio.wait_for(run.process.wait(), 15) == 1
    finally:
        if run.process.returncode is None:
            await run.stop()
