"""The attach wrapper and the collector in one process: real Unix sockets, a plain ASGI app.

The collector runtime runs on the test's event loop; the wrapper's sender thread connects to it
as a gunicorn worker's would. The application is a plain ASGI callable (no Django): the tap
still records each request's HTTP facts.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

import asgi_dashboard
from asgi_dashboard.attaching import paths
from asgi_dashboard.attaching.wrapper import AttachedApp, server_kind
from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.events import (
    Event,
    ProcessAttached,
    ProcessDetached,
    RequestFinished,
    ServerStarted,
)
from asgi_dashboard.instrument import identity, layer
from asgi_dashboard.runtime.collector import (
    CollectorBusy,
    CollectorRuntime,
    bind_collector_socket,
)

from .support import short_dir


async def hello_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


def collecting(sock: Path) -> DashboardConfig:
    return DashboardConfig(
        project_dir=Path.cwd(),
        settings_module="",
        settings_source="",
        reload=False,
        collect_socket=str(sock),
    )


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` on the loop (the events arrive from a thread's socket writes)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture(autouse=True)
def _reset_identity() -> Any:
    yield
    identity.set_worker(0)


def test_socket_path_follows_the_environment(tmp_path: Path) -> None:
    assert paths.socket_path({"ASGI_DASH_COLLECT": "off"}) is None
    assert paths.socket_path({"ASGI_DASH_COLLECT": "/x/y.sock"}) == "/x/y.sock"
    assert (
        paths.socket_path({"XDG_RUNTIME_DIR": str(tmp_path)})
        == f"{tmp_path}/asgi-dash/collect.sock"
    )
    fallback = paths.socket_path({"XDG_RUNTIME_DIR": "/does/not/exist"})
    assert fallback is not None and f"asgi-dash-{os.getuid()}" in fallback


def test_the_default_folder_is_made_private_and_an_open_one_refused(tmp_path: Path) -> None:
    sock = tmp_path / "asgi-dash" / "collect.sock"
    paths.private_folder(str(sock))
    assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    with pytest.raises(paths.SocketPathError, match="writable by others"):
        paths.private_folder(str(open_folder / "c.sock"))
    paths.private_folder(str(open_folder / "c.sock"), strict=False)  # a path the user named


def test_a_stale_socket_is_replaced_and_a_live_one_refused() -> None:
    with short_dir() as folder:
        path = str(folder / "c.sock")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)
        stale.close()  # a crashed collector's file: nothing accepts on it
        live = bind_collector_socket(path)
        try:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            with pytest.raises(
                CollectorBusy, match=f"another asgi-dash collect is running on {path}"
            ):
                bind_collector_socket(path)
        finally:
            live.close()


def test_the_cli_refuses_a_second_collector() -> None:
    with short_dir() as folder:
        path = folder / "c.sock"
        live = bind_collector_socket(str(path))
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "asgi_dashboard",
                    "collect",
                    "--headless",
                    "--socket",
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=30,
            )
        finally:
            live.close()
    assert done.returncode == 2
    assert f"another asgi-dash collect is running on {path}" in done.stderr


def test_attach_is_exported_lazily_and_off_returns_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASGI_DASH_COLLECT", "off")
    assert asgi_dashboard.attach(hello_app) is hello_app
    monkeypatch.setenv("ASGI_DASH_COLLECT", "/nowhere/c.sock")
    wrapped = asgi_dashboard.attach(hello_app)
    assert isinstance(wrapped, AttachedApp)
    assert asgi_dashboard.attach(wrapped) is wrapped
    assert wrapped.sink is not None  # started at once (not under gunicorn)
    wrapped.sink.close()
    assert server_kind(["/venv/bin/gunicorn", "x:app"]) == "gunicorn"
    assert server_kind(["manage.py", "runworker", "chat"]) == "runworker"


async def test_without_a_collector_nothing_is_recorded() -> None:
    with short_dir() as folder:
        app = AttachedApp(hello_app, str(folder / "c.sock"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(20):
                assert (await client.get("/")).status_code == 200
        assert app.sink is not None and not app.sink.connected
        assert len(app.sink._queue) == 0 and app.sink.lost == 0
        assert layer.emitter() is None  # channel-layer calls pass straight through
        app.sink.close()
        assert list(folder.iterdir()) == []


async def test_a_collector_receives_hello_requests_and_the_detach() -> None:
    got: list[Event] = []

    def on_events(batch: Sequence[Event]) -> None:
        got.extend(batch)

    with short_dir() as folder:
        sock = folder / "c.sock"
        runtime = CollectorRuntime(collecting(sock), on_events)
        await runtime.start()
        app = AttachedApp(hello_app, str(sock))
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                app.start()  # the sender (the first call would start it, racing with it)
                await until(lambda: app.sink is not None and app.sink.connected)
                assert app.sink is not None and layer.emitter() == app.sink.emit
                for _ in range(5):
                    assert (await client.get("/x")).status_code == 200
            await until(lambda: sum(isinstance(e, RequestFinished) for e in got) == 5)
        finally:
            if app.sink is not None:
                app.sink.close()
            await until(lambda: any(isinstance(e, ProcessDetached) for e in got))
            await runtime.stop()
    assert layer.emitter() is None  # the sender closed: layer events off again
    assert isinstance(got[0], ServerStarted) and got[0].mode == "collect"
    hello = next(e for e in got if isinstance(e, ProcessAttached))
    assert (hello.pid, hello.worker, hello.server) == (os.getpid(), 1, server_kind(sys.argv))
    requests = [e for e in got if isinstance(e, RequestFinished)]
    assert {(r.path, r.status, r.worker, r.worker_pid) for r in requests} == {
        ("/x", 200, 1, os.getpid())
    }
    assert len({r.id for r in requests}) == 5
    detached = next(e for e in got if isinstance(e, ProcessDetached))
    assert (detached.worker, detached.events) == (1, 5)
    assert not sock.exists()


def test_headless_lines_for_collect_events() -> None:
    from asgi_dashboard.describe import describe

    started = ServerStarted(url="unix:/r/c.sock", pid=9, mode="collect", host="unix", port=0)
    assert describe(started).line == (
        "collecting at unix:/r/c.sock  pid 9  "
        "(processes whose asgi.py calls asgi_dashboard.attach report here)"
    )
    hello = ProcessAttached(pid=41, worker=2, server="gunicorn", app="m.App", django="5.2")
    assert describe(hello).line == (
        "process attached: worker 2  pid 41  gunicorn  app m.App  settings -  Django 5.2"
    )
    gone = ProcessDetached(pid=41, worker=2, reason="collector-stopped", events=7)
    assert describe(gone).line == (
        "process detached: worker 2  pid 41  the collector stopped  (7 events)"
    )


def test_the_sender_checks_who_listens() -> None:
    from asgi_dashboard.attaching.sender import peer_uid

    a, b = socket.socketpair()
    with a, b:
        assert peer_uid(a) == os.getuid()


@pytest.mark.skipif(
    os.getuid() != 0,
    reason="needs root: the listener is made as user nobody (setuid 65534); CI runs as root",
)
def test_a_listener_of_another_user_gets_nothing() -> None:
    """A socket someone else created where the wrapper looks: connected to, sent nothing."""
    import select

    with short_dir() as folder:
        os.chown(folder, 65534, 65534)
        path = str(folder / "c.sock")
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the other user's listener (no exec: the venv is not theirs to read)
            try:
                os.setgid(65534)
                os.setuid(65534)
                server = socket.socket(socket.AF_UNIX)
                server.bind(path)
                server.listen()
                server.settimeout(10)
                os.write(write_end, b"L")
                conn, _ = server.accept()
                conn.settimeout(5)
                os.write(write_end, b"D" if conn.recv(100) else b"E")
            except BaseException:
                os.write(write_end, b"X")
            os._exit(0)
        try:
            assert select.select([read_end], [], [], 10)[0] and os.read(read_end, 1) == b"L"
            app = AttachedApp(hello_app, path, project_dir=str(folder))
            sink = app.start()
            assert select.select([read_end], [], [], 10)[0]
            said = os.read(read_end, 1)
            sink.close()
        finally:
            os.waitpid(pid, 0)
            os.close(read_end)
            os.close(write_end)
    assert said == b"E"  # connected, then closed without a byte: no hello, no traffic
    assert sink.connections == 0


async def test_events_lost_while_no_collector_listens_are_reported_on_reconnect() -> None:
    from asgi_dashboard.events import EventsDropped, LogRecord

    first: list[Event] = []
    second: list[Event] = []
    with short_dir() as folder:
        sock = folder / "c.sock"
        runtime = CollectorRuntime(collecting(sock), first.extend)
        await runtime.start()
        sink = AttachedApp(hello_app, str(sock)).start()
        try:
            await until(lambda: sink.connected)
            await runtime.stop()  # the collector goes away: the sender notices within 0.5 s
            await until(lambda: not sink.connected)
            for n in range(5):  # e.g. requests that were in flight when it went
                sink.emit(LogRecord(logger="x", level="INFO", message=f"lost {n}"))
            await until(lambda: sink.lost == 5)  # counted, not kept
            runtime = CollectorRuntime(collecting(sock), second.extend)
            await runtime.start()
            await until(lambda: sum(isinstance(e, EventsDropped) for e in second) == 1)
        finally:
            sink.close()
            await runtime.stop()
    hello, dropped = (e for e in second if isinstance(e, ProcessAttached | EventsDropped))
    assert isinstance(hello, ProcessAttached) and hello.reconnects == 1
    assert isinstance(dropped, EventsDropped) and dropped.count == 5
    assert not [e for e in first + second if isinstance(e, LogRecord)]
