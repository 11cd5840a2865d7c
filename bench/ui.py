"""Figure 3: the TUI under load, driven headless with ``App.run_test()``.

The app is the one the CLI runs (``asgi_dashboard.app.make_app(config)``, child-mode runtime,
real server). While ``wrk`` (or the fallback client) drives the fastest view at the highest
rate the server reaches, this measures:

* **batch processing**: wall time of each ``DashboardApp._flush_events`` call (the model ingests a
  chunk of buffered events and posts ``MainScreen.EventsIngested``), and the time from the start
  of a flush until the next frame is rendered (``App._display``, which the headless driver calls
  with the rendered update; it just does not write it to a terminal);
* **key press to screen update**: a key event is posted to the app exactly as the terminal
  driver posts input (``App.post_message(events.Key(...))``); the time until the action took
  effect (the main screen's tab switched) and until the next rendered frame after that.
  Keys alternate between ``2`` (Views tab) and ``1`` (Requests tab).

Every wait is bounded; a press that is not handled within 5 s counts as 5 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

from . import procs
from .projects import REPO, Project
from .stats import median, percentile

PRESS_TIMEOUT = 5.0


@dataclass
class UiResult:
    events: int = 0
    requests: int = 0
    seconds: float = 0.0
    tool: str = ""
    flush_ms: list[float] = field(default_factory=list)
    flush_to_frame_ms: list[float] = field(default_factory=list)
    key_action_ms: list[float] = field(default_factory=list)
    key_frame_ms: list[float] = field(default_factory=list)
    error: str | None = None


def _config(project: Project) -> Any:
    from asgi_dashboard.config import DashboardConfig, discover

    project_dir, settings, source, _ = discover(project.dir, settings=project.settings)
    config = DashboardConfig(
        project_dir=project_dir, settings_module=settings, settings_source=source, port=0
    )
    return replace(config, env=dict(project.env))


async def _load(url: str, seconds: float, connections: int, prefer: str) -> dict[str, Any]:
    """The load in another process (so it does not share this process's GIL with the UI)."""
    code = (
        "import json,sys; from bench.load import run_load; "
        "r = run_load(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]); "
        "print(json.dumps({'requests': r.requests, 'rps': r.rps, 'tool': r.tool}))"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, url, str(seconds), str(connections), prefer,
        stdout=asyncio.subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    procs.register_pid(proc.pid)
    out, _ = await asyncio.wait_for(proc.communicate(), seconds + 60)
    import json

    return dict(json.loads(out))


async def _run(
    project: Project, path: str, seconds: float, connections: int, prefer: str
) -> UiResult:
    from textual import events
    from textual.widgets import TabbedContent

    from asgi_dashboard.app import make_app
    from asgi_dashboard.screens.main import MainScreen

    result = UiResult()
    app = make_app(_config(project))
    frames: list[float] = []
    flush_starts: list[float] = []
    original_flush = app._flush_events
    original_display = app._display

    def timed_flush() -> None:
        t0 = time.perf_counter()
        original_flush()
        flush_starts.append(t0)
        result.flush_ms.append((time.perf_counter() - t0) * 1e3)

    def recorded_display(screen: Any, renderable: Any) -> None:
        frames.append(time.perf_counter())
        original_display(screen, renderable)

    app._flush_events = timed_flush  # type: ignore[method-assign]
    app._display = recorded_display  # type: ignore[method-assign]

    async with app.run_test(size=(160, 48)) as pilot:
        deadline = time.monotonic() + 30
        while app.runtime.state != "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if app.runtime.state != "running":
            result.error = f"server did not start (state {app.runtime.state})"
            return result
        if app.runtime.pid:
            procs.register_pid(app.runtime.pid)
        screen = app.screen
        assert isinstance(screen, MainScreen), type(screen)
        tabs = screen.query_one(TabbedContent)
        await pilot.pause()
        base_events = app.events_ingested
        assert app.runtime.url is not None  # set once the server is running
        load = asyncio.create_task(_load(app.runtime.url + path, seconds, connections, prefer))
        await asyncio.sleep(min(1.0, seconds / 4))  # let the load reach full rate
        keys = [("2", "views"), ("1", "requests")]
        i = 0
        t_end = time.monotonic() + seconds * 0.7
        while time.monotonic() < t_end and not load.done():
            key, tab = keys[i % 2]
            i += 1
            t0 = time.perf_counter()
            app.post_message(events.Key(key, key))
            acted = None
            limit = t0 + PRESS_TIMEOUT
            while time.perf_counter() < limit:
                if acted is None and tabs.active == tab:
                    acted = time.perf_counter()
                if acted is not None and frames and frames[-1] > acted:
                    break
                await asyncio.sleep(0.001)
            after = [f for f in frames if acted is not None and f > acted]
            result.key_action_ms.append(((acted or limit) - t0) * 1e3)
            result.key_frame_ms.append(((after[0] if after else limit) - t0) * 1e3)
            await asyncio.sleep(0.25)
        loaded = await load
        result.requests = int(loaded["requests"])
        result.tool = str(loaded["tool"])
        result.seconds = seconds
        await pilot.pause()
        result.events = app.events_ingested - base_events
        for start in flush_starts:
            later = [f for f in frames if f > start]
            if later:
                result.flush_to_frame_ms.append((later[0] - start) * 1e3)
        with contextlib.suppress(Exception):
            await app.stop_runtime()
    return result


def run(project: Project, path: str, *, seconds: float, connections: int, prefer: str) -> UiResult:
    try:
        return asyncio.run(_run(project, path, seconds, connections, prefer))
    except ImportError as exc:  # the UI is not there (yet)
        return UiResult(error=f"UI not importable: {exc}")


def table(r: UiResult) -> list[list[str]]:
    def stat(values: list[float]) -> str:
        if not values:
            return "-"
        s = sorted(values)
        return f"{median(s):.1f} / {percentile(s, 95):.1f} / {s[-1]:.1f}"

    rows = [["UI under load", "median / p95 / max (ms)", "n", "target"]]
    if r.error:
        rows.append(["(not measured)", r.error, "", ""])
        return rows
    worst = max(r.key_frame_ms, default=float("inf"))
    rows += [
        ["load (requests, req/s, tool)", f"{r.requests}, {r.requests / r.seconds:.0f}/s, {r.tool}",
         str(r.events), ""],
        ["event batch processing (_flush_events)", stat(r.flush_ms), str(len(r.flush_ms)), ""],
        ["batch flush -> next frame rendered", stat(r.flush_to_frame_ms),
         str(len(r.flush_to_frame_ms)), ""],
        ["key press -> action done", stat(r.key_action_ms), str(len(r.key_action_ms)), ""],
        ["key press -> frame rendered", stat(r.key_frame_ms), str(len(r.key_frame_ms)),
         "<=100 ms: " + ("met" if worst <= 100 else "NOT met")],
    ]  # fmt: skip
    return rows
