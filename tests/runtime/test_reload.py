"""Reload on file changes, end to end: a real ``asgi-dash --headless --json`` on a temporary copy
of the demo project, real file edits, real HTTP and WebSocket clients.

Every wait is bounded: events through :class:`HeadlessRun` (timeouts), HTTP through
:func:`poll_until` (a deadline). "Nothing else happened" is proven with a barrier: a template
edit, whose ReloadFinished can only come after every earlier change was handled.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import HeadlessRun, launch

pytestmark = pytest.mark.timeout(60)

ITEMS = "demoapp/templates/demoapp/items.html"
VIEWS = "demoapp/views.py"
HIT_VIEW = '''

def hit(request):
    """Test only: writes a file inside the project on every request."""
    from pathlib import Path

    with open(Path(__file__).with_name("hits.log"), "a") as f:
        f.write("hit\\n")
    return HttpResponse("hit")
'''


def copy_demo(tmp_path: Path) -> Path:
    project = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__"))
    with open(project / VIEWS, "a") as f:
        f.write(HIT_VIEW)
    urls = project / "demosite/urls.py"
    urls.write_text(
        urls.read_text().replace(
            'path("admin/", admin.site.urls),',
            'path("admin/", admin.site.urls),\n    path("hit/", views.hit),',
        )
    )
    return project


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


async def poll_until(
    client: httpx.AsyncClient, url: str, ok: Callable[[httpx.Response], bool], timeout: float = 15
) -> httpx.Response:
    """GET ``url`` until ``ok(response)``, bounded by ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: httpx.Response | httpx.TransportError | None = None
    while loop.time() < deadline:
        try:
            last = await client.get(url)
            if ok(last):
                return last
        except httpx.TransportError as exc:
            last = exc
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{url}: no matching response in {timeout} s (last: {last!r})")


async def template_barrier(run: HeadlessRun, project: Path, marker: str) -> list[dict[str, Any]]:
    """Edit a template and wait for its reload; returns the events seen meanwhile."""
    before = len(run.events)
    edit(project / ITEMS, "<h1>", f"<h1>{marker} ")
    await run.wait_event("reload-finished", path="templates", timeout=15)
    return run.events[before:]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[HeadlessRun, Path, str]]:
    project = copy_demo(tmp_path)
    run = await launch(
        str(project),
        "--port",
        "0",
        "--reload-include",
        "*.log",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        yield run, project, started["url"]
    finally:
        if run.process.returncode is None:
            await run.stop()


async def test_view_template_and_websocket_across_reloads(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    first = run.events[-1]
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        # A template edit is served without a restart: same process, same generation.
        edit(project / ITEMS, "<h1>Items</h1>", "<h1>Items, edited</h1>")
        done = await run.wait_event("reload-finished", path="templates", timeout=15)
        assert done["ok"] and done["generation"] == first["generation"]
        page = await client.get("/template/")
        assert "Items, edited" in page.text
        assert not [
            e
            for e in run.events
            if e["event"] == "server-starting" and e["generation"] > first["generation"]
        ]

        # A WebSocket is open while a view edit reloads: it gets 1012 and does not hold it up.
        async with connect(
            url.replace("http", "ws") + "/ws/echo/", origin=Origin("http://127.0.0.1")
        ) as ws:
            await ws.send("hello")
            assert await asyncio.wait_for(ws.recv(), 5) == "You said: hello"
            edit(project / VIEWS, '_slept("sync", ms)', '_slept("sync-v2", ms)')
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        done = await run.wait_event("reload-finished", timeout=15)
        assert done["ok"] and done["path"] in ("fork", "spawn")
        assert done["generation"] == first["generation"] + 1
        started = next(
            e
            for e in run.events
            if e["event"] == "server-started" and e["generation"] == done["generation"]
        )
        assert started["url"] == url and started["pid"] != first["pid"]
        response = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
        assert response.json()["view"] == "sync-v2"
        # The 1012 is the server's (Uvicorn's shutdown), not the client's, in the event too.
        ws_closed = [e for e in run.events if e["event"] == "ws-closed"]
        assert [(e["code"], e["by"]) for e in ws_closed] == [(1012, "server")]


async def test_syntax_error_is_reported_served_as_500_and_recovered(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    views = project / VIEWS
    good = views.read_text()
    views.write_text(good + "\nbroken = (\n")
    failed = await run.wait_event("server-failed", timeout=15)
    assert "views.py" in failed["message"] and "line" in failed["message"]
    assert failed["error"]["type"] == "SyntaxError"
    done = await run.wait_event("reload-finished", timeout=15)
    assert not done["ok"]
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        page = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 500)
        assert "SyntaxError" in page.text and "views.py" in page.text
        # Watching continues: the fixing save brings the server back by itself.
        views.write_text(good.replace('_slept("sync", ms)', '_slept("fixed", ms)'))
        done = await run.wait_event("reload-finished", timeout=15)
        assert done["ok"]
        response = await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
        assert response.json()["view"] == "fixed"


async def test_rapid_saves_make_one_reload_and_a_written_file_no_loop(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    views = project / VIEWS
    text = views.read_text()
    for i in range(5):  # an editor saving in a burst
        views.write_text(text.replace('_slept("sync", ms)', f'_slept("burst-{i}", ms)'))
    done = await run.wait_event("reload-finished", timeout=15)
    assert done["ok"]
    await template_barrier(run, project, "After burst")
    changes = [
        e for e in run.events if e["event"] == "files-changed" and e["action"] != "templates"
    ]
    assert len(changes) == 1, changes

    # /hit/ appends to hits.log inside the project, which --reload-include '*.log' watches: after
    # a few reloads the guard stops reloading on it, and further requests change nothing.
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        loop_event = None
        for _ in range(6):
            await poll_until(client, "/hit/", lambda r: r.status_code == 200)
            event = await run.wait_for(
                lambda e: e["event"] in ("reload-finished", "reload-loop"), timeout=15
            )
            if event["event"] == "reload-loop":
                loop_event = event
                break
        assert loop_event is not None and loop_event["path"].endswith("hits.log")
        for _ in range(3):
            await poll_until(client, "/hit/", lambda r: r.status_code == 200)
    seen = await template_barrier(run, project, "After loop")
    assert not [e for e in seen if e["event"] == "server-starting"], seen


async def test_no_request_refused_across_a_reload(
    served: tuple[HeadlessRun, Path, str],
) -> None:
    run, project, url = served
    errors: list[BaseException] = []
    bodies: list[str] = []
    stop = asyncio.Event()

    async def stream() -> None:
        # A fresh connection per request: each one goes through the shared listening socket.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as client:
            while not stop.is_set():
                try:
                    response = await client.get("/sync/?ms=0")
                    bodies.append(response.json()["view"])
                except httpx.TransportError as exc:
                    errors.append(exc)

    task = asyncio.create_task(stream())
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            await poll_until(client, "/sync/?ms=0", lambda r: r.status_code == 200)
        edit(project / VIEWS, '_slept("sync", ms)', '_slept("streamed", ms)')
        await run.wait_event("reload-finished", timeout=15)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while bodies.count("streamed") < 20 and loop.time() < deadline and not task.done():
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
    assert not errors, errors[:3]
    assert "sync" in bodies and bodies.count("streamed") >= 20
