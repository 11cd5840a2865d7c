"""The compare screen (b): defaults that finish in seconds, labelled fields; snapshots."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.diagnostics.probe import ProbeResult, ServerBreakdown, UrlResult
from asgi_dashboard.screens.compare import (
    TITLE,
    CompareScreen,
    default_urls,
    route_urls,
)
from tests.ui.conftest import plain, settle, utc, wait_for  # noqa: F401 (utc: autouse)
from tests.ui.scripted import T0, main_script, make_config, scripted_factory

BASE = "http://127.0.0.1:8000"


def build(demo: bool = False) -> DashboardApp:
    config = dataclasses.replace(make_config(), is_demo=demo)
    app = make_app(config, scripted_factory(main_script()))
    app.clock = lambda: T0 + 125
    return app


def test_sleep_views_default_to_50_ms() -> None:
    assert route_urls(BASE, ["sync/", "polls/<int:pk>/", "", "api/stats"]) == [
        f"{BASE}/sync/?ms=50",
        f"{BASE}/",
        f"{BASE}/api/stats",
    ]
    assert default_urls(BASE, ["api/stats", "async/", "sync/"]) == [
        f"{BASE}/sync/?ms=50",
        f"{BASE}/async/?ms=50",
    ]
    assert default_urls(BASE, [], demo=True) == [f"{BASE}/sync/?ms=50", f"{BASE}/async/?ms=50"]
    assert default_urls(BASE, ["polls/", "api/stats", "x/"]) == [
        f"{BASE}/polls/",
        f"{BASE}/api/stats",
    ]


async def test_b_opens_a_titled_form_with_labelled_fields_and_quick_defaults() -> None:
    app = build(demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert TITLE in plain(screen.query_one("#compare-title"))
        labels = {w.id: w.border_title for w in screen.query("#compare-form Input")}
        assert labels == {"url-a": "URL A", "url-b": "URL B", "requests": "N", "concurrency": "C"}
        assert screen.query_one("#url-a").value == f"{BASE}/sync/?ms=50"  # type: ignore[attr-defined]
        assert screen.query_one("#requests").value == "50"  # type: ignore[attr-defined]
        run = screen.query_one("#run")
        # The button shows its whole label inside the screen at 80 columns.
        assert run.region.right <= 80 and run.region.width >= len("Run") + 2
        assert "Run" in str(run.render())


def open_compare(demo: bool) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()

    return run_before


def test_compare_screen_wide(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(demo=True), terminal_size=(160, 48), run_before=open_compare(True))


def test_compare_screen_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(demo=True), terminal_size=(80, 24), run_before=open_compare(True))


async def test_a_run_with_no_successful_request_says_so() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = CompareScreen(BASE, urls=[dead], events_wait=0)
        await app.push_screen(screen)
        screen.query_one("#requests", Input).value = "3"
        await pilot.click("#run")
        await wait_for(pilot, lambda: screen.result is not None, 10, "the probe to finish")
        status = plain(screen.query_one("#compare-status"))
        assert "no successful request to / (ConnectError" in status
        table = screen.query_one("#compare-table", DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i)[1] for i in range(table.row_count)}
        assert rows["client: requests/s"] == "-" and rows["client: p50"] == "-"


def fixed_result() -> ProbeResult:
    """A finished run with server figures (fixed numbers: the snapshot must not move)."""
    ms = 1_000_000
    server = ServerBreakdown(20, 60 * ms, 51 * ms, 2 * ms, 2 * ms, 0.0, 0.0, 16.0, ("sync",))
    rows = (
        UrlResult(
            f"{BASE}/sync/?ms=50",
            0,
            20,
            10,
            400 * ms,
            tuple((55 + 5 * i) * ms for i in range(20)),
            ((200, 20),),
            0,
            server=server,
        ),
        UrlResult(
            f"{BASE}/async/?ms=50",
            1,
            20,
            10,
            120 * ms,
            tuple((51 + i) * ms for i in range(20)),
            ((200, 20),),
            0,
        ),
    )
    return ProbeResult("feedc0de", 20, 10, rows)


def show_fixed_result() -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, CompareScreen)
        screen.show_result(fixed_result())
        await pilot.pause()

    return run_before


def test_compare_screen_result_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(demo=True), terminal_size=(80, 24), run_before=show_fixed_result())
