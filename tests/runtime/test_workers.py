"""``asgi-dash --workers 2`` for real: ``--headless --json`` on a copy of the demo, real HTTP.

Exact-count load over several connections (every request exactly one event, both workers
serve), a reload that replaces both workers (forked from the warm process) while requests keep
being answered, a killed worker that is restarted in place while the other one serves, and the
in-memory channel layer warning. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import HeadlessRun, launch, pid_alive
from tests.runtime.procs import _stat, warm_pids
from tests.runtime.test_reload import copy_demo, edit

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

IN_MEMORY = "channels.layers.InMemoryChannelLayer"
#: CPU work on the event loop (~2-5 ms): while one worker computes, the other accepts.
CPU_PATH = "/cpu/?n=8000"


async def start_workers(
    tmp_path: Path, *args: str
) -> tuple[HeadlessRun, dict[int, dict[str, Any]]]:
    """``asgi-dash --workers 2`` on a copy of the demo; returns the run and worker -> started."""
    project = copy_demo(tmp_path)
    run = await launch(
        str(project),
        "--port",
        "0",
        "--workers",
        "2",
        *args,
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    started: dict[int, dict[str, Any]] = {}
    while len(started) < 2:
        event = await run.wait_event("server-started", timeout=40)
        started[event["worker"]] = event
    return run, started


async def seen(
    run: HeadlessRun, name: str, count: int, timeout: float = 30.0, **fields: Any
) -> list[dict[str, Any]]:
    """The first ``count`` events so far (consumed or not) that match, reading on if needed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def matching() -> list[dict[str, Any]]:
        return [
            e
            for e in run.events
            if e["event"] == name and all(e.get(k) == v for k, v in fields.items())
        ]

    while len(found := matching()) < count:
        await run.next_event(max(0.01, deadline - loop.time()))
    return found[:count]


@pytest.fixture
async def workers_no_reload(
    tmp_path: Path,
) -> AsyncIterator[tuple[HeadlessRun, dict[int, dict[str, Any]]]]:
    run, started = await start_workers(tmp_path, "--no-reload")
    try:
        yield run, started
    finally:
        if run.process.returncode is None:
            await run.stop()


async def load(url: str, requests: int, connections: int, path: str = CPU_PATH) -> list[int]:
    """``requests`` GETs of ``path`` over ``connections`` keep-alive connections: statuses."""
    statuses: list[int] = []
    per_client = requests // connections

    async def client_run() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            for _ in range(per_client):
                statuses.append((await client.get(path)).status_code)

    await asyncio.gather(*(client_run() for _ in range(connections)))
    return statuses


async def test_exact_count_over_two_workers_and_layer_warning(
    workers_no_reload: tuple[HeadlessRun, dict[int, dict[str, Any]]],
) -> None:
    run, started = workers_no_reload
    assert {w: s["workers"] for w, s in started.items()} == {1: 2, 2: 2}
    assert started[1]["pid"] != started[2]["pid"]
    assert started[1]["channel_layer"] == IN_MEMORY
    url = started[1]["url"]
    statuses = await load(url, 200, 10)
    assert statuses == [200] * 200
    events: list[dict[str, Any]] = []
    while len(events) < 200:
        events.append(await run.wait_event("request", timeout=20, path="/cpu/"))
    # Exactly one event per request: unique ids, and no 201st. A barrier per worker: a request
    # answered after the load comes after any late duplicate on that worker's pipe, so new
    # connections until both workers have answered one.
    assert len({e["id"] for e in events}) == 200
    barrier_workers: set[int] = set()
    headers = {"connection": "close"}
    async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as client:
        for _ in range(50):
            assert (await client.get("/sync/?ms=0")).status_code == 200
            barrier_workers.add((await run.wait_event("request", path="/sync/"))["worker"])
            if barrier_workers == {1, 2}:
                break
    assert barrier_workers == {1, 2}
    assert [e for e in run.events if e["event"] == "request" and e["path"] == "/cpu/"] == events
    pids = {w: s["pid"] for w, s in started.items()}
    assert {e["worker"] for e in events} == {1, 2}, "one worker took every connection"
    assert all(e["worker_pid"] == pids[e["worker"]] for e in events)
    assert all(e["id"].startswith(f"1.{e['worker']}-") for e in events)
    # The warning: once in the console (a log record), once on stderr.
    warning = next(e for e in run.events if e["event"] == "log" and IN_MEMORY in e["message"])
    assert warning["level"] == "WARNING" and "REDIS_URL" in warning["message"]
    assert await run.stop() == 0
    stderr = (await run._stderr()).splitlines()
    assert sum(IN_MEMORY in line for line in stderr) == 1


async def test_killed_worker_restarts_while_the_other_serves(
    workers_no_reload: tuple[HeadlessRun, dict[int, dict[str, Any]]],
) -> None:
    run, started = workers_no_reload
    url, victim, survivor = started[1]["url"], started[2]["pid"], started[1]["pid"]
    os.kill(victim, signal.SIGKILL)  # our own grandchild, by its PID
    stopped = await run.wait_event("server-stopped", timeout=20, pid=victim)
    assert (stopped["worker"], stopped["reason"]) == (2, "crashed")
    assert stopped["restart_in_s"] is not None and not stopped["crash_loop"]
    # Meanwhile worker 1 answers everything (no 503 stand-in: a worker still serves).
    assert await load(url, 20, 2, "/sync/?ms=0") == [200] * 20
    again = await run.wait_event("server-started", timeout=30, worker=2)
    assert again["generation"] == 1 and again["pid"] not in (victim, survivor)
    assert pid_alive(survivor) and not pid_alive(victim)
    assert await load(url, 40, 8) == [200] * 40
    assert run.process.returncode is None  # without reload too, one worker's crash ends nothing


async def test_reload_replaces_both_workers_and_refuses_nothing(tmp_path: Path) -> None:
    run, started = await start_workers(tmp_path)
    try:
        await reload_under_load(run, started, tmp_path / "demo")
    finally:
        if run.process.returncode is None:
            await run.stop()


async def reload_under_load(
    run: HeadlessRun, started: dict[int, dict[str, Any]], project: Path
) -> None:
    url = started[1]["url"]
    old_pids = {s["pid"] for s in started.values()}
    results: list[int | str] = []
    stop = asyncio.Event()

    async def keep_requesting() -> None:
        # A new connection per request: every one is a fresh accept on the shared socket.
        headers = {"connection": "close"}
        async with httpx.AsyncClient(base_url=url, timeout=20, headers=headers) as client:
            while not stop.is_set():
                try:
                    results.append((await client.get("/sync/?ms=0")).status_code)
                except httpx.TransportError as exc:
                    results.append(type(exc).__name__)

    clients = [asyncio.create_task(keep_requesting()) for _ in range(3)]
    try:
        edit(project / "demoapp/views.py", '"view": "cpu"', '"view": "cpu", "edited": True')
        finished = await run.wait_event("reload-finished", timeout=40, generation=2)
        assert finished["ok"] and finished["path"] == "fork"
        new = {e["worker"]: e for e in await seen(run, "server-started", 2, generation=2)}
        assert set(new) == {1, 2}
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            answer = (await client.get("/cpu/?n=1")).json()
        assert answer.get("edited") is True
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), 30)
    new_pids = {s["pid"] for s in new.values()}
    assert not new_pids & old_pids
    # Both forked by the warm process, not started by the dashboard.
    warm = set(warm_pids(run.process.pid))
    parents = {pid: (_stat(pid) or (0, ""))[0] for pid in new_pids}
    assert set(parents.values()) <= warm and warm, parents
    for pid in old_pids:
        (stopped,) = await seen(run, "server-stopped", 1, pid=pid)
        assert stopped["reason"] == "requested" and stopped["generation"] == 1
    assert results and set(results) == {200}, {r for r in results if r != 200}
