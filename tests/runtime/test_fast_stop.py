"""A server generation told to stop right after it started exits at once.

It used to wait out its start-up-check delay (1 s after a reload) and run Django's system checks
before exiting, so a burst of saves left a pile of generations alive. Real processes here: a
spawned ``python -m asgi_dashboard.runtime.child`` and a generation forked by a real warm process,
each on its own loopback socket, stopped with ``stop`` on its control pipe the moment its
ServerStarted event arrives (and, for the spawned one, while Django is still loading).

Two clocks: the generation's own (``ASGI_DASH_TRACE`` step lines: "stop-received" to "exit",
the time the child's exit path takes, independent of how busy the machine is) must be under
0.3 s; the wall clock from writing ``stop`` to the parent seeing the exit gets slack for CI load
(the process still has to be scheduled and torn down by the kernel).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.eventpipe import FrameReader
from asgi_dashboard.events import Event, ServerStarted
from asgi_dashboard.runtime.launch import GenerationPipes, child_env, spawn_child
from asgi_dashboard.runtime.sockets import bind_socket, url_for
from tests.runtime.test_bad_input import project

#: The bound for the generation's own exit path (a stop must not wait for the checks).
EXIT_PATH_S = 0.3
#: Wall clock, stop written -> exit seen by the parent, on a loaded 2-core CI runner.
WALL_S = EXIT_PATH_S + 0.7

VIEWS = (
    "from django.http import HttpResponse\n\n\ndef hello(request):\n    return HttpResponse('hi')\n"
)
URLS = (
    "from django.urls import path\n\nfrom proj import views\n\n"
    "urlpatterns = [path('hello/', views.hello)]\n"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = project(tmp_path / "p")
    (root / "proj" / "views.py").write_text(VIEWS)
    (root / "proj" / "urls.py").write_text(URLS)
    return root


def config_for(root: Path, trace: Path) -> DashboardConfig:
    return DashboardConfig(
        root, "proj.settings", "test", port=0, env={"ASGI_DASH_TRACE": str(trace)}
    )


class EventPipe:
    """The parent's end of a generation's event pipe, read on the loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.frames = FrameReader()
        self.events: list[Event] = []
        self.changed = asyncio.Event()
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        if not data:
            asyncio.get_running_loop().remove_reader(self.fd)
        batch, _ = self.frames.feed(data)
        self.events.extend(batch)
        self.changed.set()

    async def started(self, timeout: float) -> ServerStarted:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if isinstance(event, ServerStarted):
                        return event
                self.changed.clear()
                await self.changed.wait()

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)


def exit_path_s(trace: Path, pid: int) -> float:
    """The generation's own "stop-received" -> "exit" time, from its trace lines."""
    steps: dict[str, int] = {}
    for line in trace.read_text().splitlines():
        ns, who, step = line.split()
        if int(who) == pid:
            steps.setdefault(step, int(ns))
    assert "stop-received" in steps and "exit" in steps, steps
    return (steps["exit"] - steps["stop-received"]) / 1e9


@pytest.fixture
async def listener() -> AsyncIterator[object]:
    sock = bind_socket("127.0.0.1", 0)
    yield sock
    sock.close()


async def test_spawned_generation_stopped_right_after_start_exits_fast(
    site: Path, tmp_path: Path, listener: object
) -> None:
    trace = tmp_path / "trace.log"
    config = config_for(site, trace)
    pipes = GenerationPipes.open(config, listener, generation=2)  # type: ignore[arg-type]
    assert pipes.spec.checks_delay_s == 1.0  # a reload's delay, where the checks stalled a stop
    process = spawn_child(config, pipes.spec)
    pipes.close_child_ends()
    events = EventPipe(pipes.event_r)
    try:
        started = await events.started(timeout=60)
        assert started.pid == process.pid
        t0 = time.perf_counter()
        os.write(pipes.control_w, b"stop\n")
        code = await asyncio.wait_for(asyncio.to_thread(process.reap, block=True), 10)
        wall = time.perf_counter() - t0
    finally:
        process.kill()
        process.reap(block=True)
        events.close()
        os.close(pipes.control_w)
        for fd in (process.stdout_fd, process.stderr_fd):
            os.close(fd)
    assert code == 0
    own = exit_path_s(trace, process.pid)
    print(f"spawned: exit path {own * 1000:.1f} ms, stop -> exit seen {wall * 1000:.1f} ms")
    assert own < EXIT_PATH_S, f"exit path took {own * 1000:.0f} ms"
    assert wall < WALL_S, f"stop -> exit seen took {wall * 1000:.0f} ms (own path {own * 1e3:.0f})"


async def test_spawned_generation_stopped_while_loading_exits_fast(
    site: Path, tmp_path: Path, listener: object
) -> None:
    trace = tmp_path / "trace.log"
    config = config_for(site, trace)
    pipes = GenerationPipes.open(config, listener, generation=2)  # type: ignore[arg-type]
    process = spawn_child(config, pipes.spec)
    pipes.close_child_ends()
    try:
        # As soon as the interpreter runs our code (its first trace line), before Django loads.
        deadline = time.monotonic() + 30
        while not (trace.exists() and trace.read_text()):
            assert time.monotonic() < deadline, "the child never started"
            await asyncio.sleep(0.005)
        t0 = time.perf_counter()
        os.write(pipes.control_w, b"stop\n")
        code = await asyncio.wait_for(asyncio.to_thread(process.reap, block=True), 10)
        wall = time.perf_counter() - t0
    finally:
        process.kill()
        process.reap(block=True)
        for fd in (pipes.event_r, pipes.control_w, process.stdout_fd, process.stderr_fd):
            os.close(fd)
    assert code == 0
    assert exit_path_s(trace, process.pid) < EXIT_PATH_S
    assert wall < WALL_S, f"{wall * 1000:.0f} ms"


async def test_forked_generation_stopped_right_after_start_exits_fast(
    site: Path, tmp_path: Path, listener: object
) -> None:
    from asgi_dashboard.runtime.warmclient import ForkLauncher

    trace = tmp_path / "trace.log"
    config = config_for(site, trace)
    launcher = ForkLauncher(config, listener, child_env(config))  # type: ignore[arg-type]
    if launcher.disabled:
        pytest.skip(f"fork-from-warm is off on this platform: {launcher.disabled}")
    try:
        # Warm up first: the new generation must serve the next request (it also proves the
        # old one let go of the socket).
        for generation in (2, 3):
            pipes = GenerationPipes.open(config, listener, generation)  # type: ignore[arg-type]
            try:
                launched = await launcher.launch(pipes.spec)
            finally:
                pipes.close_child_ends()
            assert launched is not None, launcher.reason
            process, _out, _err = launched
            events = EventPipe(pipes.event_r)
            try:
                started = await events.started(timeout=60)
                assert started.pid == process.pid
                t0 = time.perf_counter()
                os.write(pipes.control_w, b"stop\n")
                code = await asyncio.wait_for(process.wait(), 10)
                wall = time.perf_counter() - t0
            finally:
                process.kill()
                events.close()
                os.close(pipes.control_w)
            assert code == 0
            own = exit_path_s(trace, process.pid)
            print(f"forked: exit path {own * 1000:.1f} ms, stop -> exit seen {wall * 1000:.1f} ms")
            assert own < EXIT_PATH_S, f"exit path took {own * 1000:.0f} ms"
            assert wall < WALL_S, f"{wall * 1000:.0f} ms (own path {own * 1000:.0f} ms)"
        # Nothing serves now: a last generation answers on the same socket.
        pipes = GenerationPipes.open(config, listener, 4)  # type: ignore[arg-type]
        try:
            launched = await launcher.launch(pipes.spec)
        finally:
            pipes.close_child_ends()
        assert launched is not None
        process, _out, _err = launched
        events = EventPipe(pipes.event_r)
        try:
            await events.started(timeout=60)
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url_for(listener, "127.0.0.1") + "/hello/")  # type: ignore[arg-type]
            assert response.text == "hi"
            os.write(pipes.control_w, b"stop\n")
            assert await asyncio.wait_for(process.wait(), 10) == 0
        finally:
            process.kill()
            events.close()
            os.close(pipes.control_w)
    finally:
        await launcher.close(5.0)
