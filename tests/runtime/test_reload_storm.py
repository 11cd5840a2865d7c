"""Reloads under pressure (bursts of saves, stops, crashes), end to end on ``asgi-dash --headless``.

* A burst of 100 saves within a second makes at most two restarts, never more than one
  generation draining beside the serving one and the warm process, and no request from a
  concurrent client (a fresh connection each) is refused or reset.
* The warm process exists soon after the first response even though generation 1 was started
  early by the CLI, and the first edit is served by a fork of it.
* A request still running when a reload's graceful timeout ends gets a 503 with ``Retry-After``
  and its event says it was cancelled by the reload (not an error of the view).

Processes are counted from /proc (no psutil), limited to the ones below the asgi-dash process
this test started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.runtime.conftest import HeadlessRun, launch
from tests.runtime.procs import descendants, warm_pids
from tests.runtime.test_reload import ITEMS, VIEWS, copy_demo, edit, poll_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SLOW_VIEW = '''

def slow(request):
    """Test only: says it has started (a file outside the project), then takes 5 s."""
    import os
    import time

    open(os.environ["STARTED_MARKER"], "w").close()
    time.sleep(5)
    return HttpResponse("finished")


async def aslow(request):
    """Test only: the same, as an async view."""
    import asyncio
    import os

    open(os.environ["STARTED_MARKER"], "w").close()
    await asyncio.sleep(5)
    return HttpResponse("finished")
'''


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[HeadlessRun, Path, str]]:
    project = copy_demo(tmp_path)
    with open(project / VIEWS, "a") as f:
        f.write(SLOW_VIEW)
    edit(
        project / "demosite/urls.py",
        'path("hit/", views.hit),',
        'path("hit/", views.hit),\n    path("slow/", views.slow),\n'
        '    path("aslow/", views.aslow),',
    )
    run = await launch(
        str(project),
        "--port",
        "0",
        "--graceful-timeout",
        "0.3",
        env={
            "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"),
            "STARTED_MARKER": str(tmp_path / "slow.started"),
        },
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        yield run, project, started["url"]
    finally:
        if run.process.returncode is None:
            await run.stop()


async def wait_for_warm(run: HeadlessRun, timeout: float) -> int:
    """The warm process's PID, polled from /proc within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = warm_pids(run.process.pid)
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no warm process within {timeout} s")


def save_in_a_burst(views: Path, text: str) -> float:
    """100 saves of ``views`` within about a second, on a thread of their own (so the test's
    busy event loop cannot space them out); returns how long they took."""
    t0 = time.monotonic()
    for i in range(100):
        views.write_text(text.replace('_slept("warmed", ms)', f'_slept("storm-{i}", ms)'))
        if i % 2:
            # Saves in pairs 20 ms apart: gaps longer than the watcher's 10 ms step, so the
            # burst reaches the runtime as dozens of separate batches (as an editor's would).
            time.sleep(max(0.0, t0 + (i + 1) * 0.010 - time.monotonic()))
    return time.monotonic() - t0


async def test_warm_process_follows_an_early_first_generation_and_first_edit_forks(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    first = run.events[-1]
    # Generation 1 is the CLI's early fork (launch.prespawn), adopted by the runtime.
    assert first["generation"] == 1
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        assert (await client.get("/sync/?ms=0")).status_code == 200
        await wait_for_warm(run, timeout=15)
        edit(project / VIEWS, '_slept("sync", ms)', '_slept("first-edit", ms)')
        done = await run.wait_event("reload-finished", timeout=20)
        assert done["ok"] and done["path"] == "fork", done
        response = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
        assert response.json()["view"] == "first-edit"


async def test_a_burst_of_saves_makes_at_most_two_restarts_and_drops_nothing(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    root = run.process.pid
    await wait_for_warm(run, timeout=15)
    # One edit first: the warm process is then ready and every reload of the storm is a fast
    # fork (the steady state, where a blocked watcher used to start a server per batch).
    edit(project / VIEWS, '_slept("sync", ms)', '_slept("warmed", ms)')
    await run.wait_event("reload-finished", timeout=20)
    base = max(e["generation"] for e in run.events if e["event"] == "server-started")
    views = project / VIEWS
    text = views.read_text()
    errors: list[BaseException] = []
    statuses: list[int | str] = []
    most_alive = 0
    stop = asyncio.Event()

    async def client_loop() -> None:
        limits = httpx.Limits(max_keepalive_connections=0)  # every request a new connection
        async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
            while not stop.is_set():
                try:
                    response = await client.get("/sync/?ms=0")
                    # A save caught half-written breaks the project for a moment: its error page
                    # (500) is the truthful answer then, not a dropped request.
                    broken = "The project failed to load" in response.text
                    statuses.append("error page" if broken else response.status_code)
                except httpx.TransportError as exc:
                    errors.append(exc)

    async def count_processes() -> None:
        nonlocal most_alive
        while not stop.is_set():
            most_alive = max(most_alive, len(descendants(root)))
            await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(client_loop()), asyncio.create_task(count_processes())]
    try:
        took = await asyncio.to_thread(save_in_a_burst, views, text)
        assert took < 3.0  # a burst (about 1 s; more only on a very busy machine)
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            last = await poll_until(
                client,
                "/sync/?ms=0",
                lambda r: r.status_code == 200 and r.json().get("view") == "storm-99",
                timeout=30,
            )
        assert last.status_code == 200
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)
    # A barrier: a template edit, handled after every earlier change. It may be folded into a
    # reload still pending from the storm, so wait for the reload that includes it.
    edit(project / ITEMS, "<h1>", "<h1>After storm ")
    await run.wait_for(
        lambda e: e["event"] == "reload-finished" and any(p.endswith(ITEMS) for p in e["paths"]),
        timeout=20,
    )
    restarts = [e for e in run.events if e["event"] == "server-starting" and e["generation"] > base]
    batches = [e for e in run.events if e["event"] == "files-changed"]
    print(f"{len(batches)} batches of changes, {len(restarts)} restarts, {most_alive} processes")
    t0 = batches[0]["ts"] if batches else 0.0
    timeline = sorted(
        [(round(e["ts"] - t0, 3), "save") for e in batches]
        + [(round(e["ts"] - t0, 3), f"start {e['generation']}") for e in restarts]
        + [
            (round(e["ts"] - t0, 3), f"{e['event']} {e['generation']}")
            for e in run.events
            if e["event"] in ("server-started", "server-failed", "server-stopped")
        ]
    )
    assert 1 <= len(restarts) <= 2, timeline
    assert not errors, errors[:3]
    assert statuses and set(statuses) <= {200, "error page"}, set(statuses)
    # Serving + one starting or draining + the warm process.
    assert most_alive <= 3, most_alive


@pytest.mark.parametrize("path", ["/slow/", "/aslow/"], ids=["sync", "async"])
async def test_a_request_cut_by_a_reload_gets_503_and_is_not_the_views_error(
    served: tuple[HeadlessRun, Path, str], tmp_path: Path, path: str
) -> None:
    run, project, url = served
    marker = tmp_path / "slow.started"
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:
        cut = asyncio.create_task(client.get(path))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not marker.exists():  # the view is running
            assert loop.time() < deadline and not cut.done()
            await asyncio.sleep(0.01)
        edit(project / VIEWS, '_slept("sync", ms)', '_slept("after-cut", ms)')
        response = await asyncio.wait_for(cut, 15)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    event = await run.wait_event("request", timeout=15, path=path)
    assert event["status"] == 503 and event["cancelled"] == "reload"
    assert event["error"] is None
