"""Pilot tests for the diagnostics screens with scripted data (no server, no sockets)."""

from __future__ import annotations

import dataclasses
import socket

import httpx
from textual.widgets import DataTable

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.diagnostics.audit import MiddlewareFacts, build_audit
from asgi_dashboard.diagnostics.probe import PROBE_HEADER
from asgi_dashboard.events import Event, ServerStarted
from asgi_dashboard.screens.audit import MiddlewareAuditScreen
from asgi_dashboard.screens.compare import CompareScreen
from asgi_dashboard.screens.replay import ReplayScreen
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import plain, settle, utc, wait_for  # noqa: F401 (utc: autouse)
from tests.ui.scripted import MS, T0, main_script, make_config, request, scripted_factory

SIZE = (160, 48)
AUDIT = build_audit(
    [
        MiddlewareFacts("legacy.mw.Legacy", True, False),
        MiddlewareFacts(
            "django.middleware.security.SecurityMiddleware",
            True,
            True,
            True,
            ("process_request", "process_response"),
        ),
    ],
    hop_ns=40_000,
    switch_ns=30_000,
)


def build(script: list[Event]) -> DashboardApp:
    app = make_app(make_config(), scripted_factory(script))
    app.clock = lambda: T0 + 125
    return app


async def test_m_opens_the_latest_middleware_audit() -> None:
    app = build([*main_script(), AUDIT])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.latest_audit == AUDIT
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, MiddlewareAuditScreen)
        summary = plain(screen.query_one("#audit-summary"))
        assert "2 entries (1 sync-only), 3 thread hop(s) + 1 switch(es)" in summary
        assert "DEBUG" in summary  # the audit says Django would not have told you
        assert screen.query_one("#audit-table", DataTable).row_count == 2
        assert "legacy.mw.Legacy: sync-only" in plain(screen.query_one("#audit-fix"))
        await pilot.press("down")
        assert "Django's own; its 2 hop(s)" in plain(screen.query_one("#audit-fix"))
        await pilot.press("escape")
        assert app.screen is app.main_screen


async def test_audit_screen_without_an_audit_says_so() -> None:
    app = build(main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        assert "No middleware audit yet" in plain(app.screen.query_one("#audit-summary"))


async def test_compare_screen_runs_the_probe_and_shows_server_figures() -> None:
    server_events: list[Event] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sync = req.url.path == "/sync/"
        server_events.append(
            request(
                len(server_events) + 100,
                path=req.url.path,
                kind="sync" if sync else "async",
                thread_wait_ns=2 * MS if sync else None,
                view_ns=50 * MS,
                request_headers=((PROBE_HEADER, req.headers[PROBE_HEADER]),),
            )
        )
        return httpx.Response(200, json={"ok": True})

    app = build(main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = CompareScreen(
            "http://127.0.0.1:8000",
            ["sync/", "async/", "polls/<int:pk>/"],
            lambda: server_events,
            transport=httpx.MockTransport(handler),
            events_wait=2,
        )
        await app.push_screen(screen)
        assert screen.query_one("#url-a").value == "http://127.0.0.1:8000/sync/?ms=50"  # type: ignore[attr-defined]
        assert screen.query_one("#url-b").value == "http://127.0.0.1:8000/async/?ms=50"  # type: ignore[attr-defined]
        screen.query_one("#requests").value = "20"  # type: ignore[attr-defined]
        screen.query_one("#concurrency").value = "4"  # type: ignore[attr-defined]
        await pilot.click("#run")
        await wait_for(pilot, lambda: screen.result is not None, 10, "the probe to finish")
        result = screen.result
        assert result is not None and [r.ok for r in result.results] == [20, 20]
        sync, async_ = (r.server for r in result.results)
        assert sync is not None and sync.matched == 20 and sync.thread_wait_p50_ns == 2 * MS
        assert async_ is not None and async_.thread_wait_p50_ns is None
        table = screen.query_one("#compare-table", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["", "/sync/?ms=50", "/async/?ms=50"]
        assert "latency histogram" in plain(screen.query_one("#compare-histogram"))


async def test_compare_screen_refuses_a_remote_url() -> None:
    app = build(main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = CompareScreen("http://127.0.0.1:8000", urls=["http://192.0.2.1/"])
        await app.push_screen(screen)
        await pilot.click("#run")
        assert "not a loopback address" in plain(screen.query_one("#compare-status"))
        assert screen.result is None


async def test_replay_screen_shows_the_body_diff() -> None:
    original = request(1, path="/sync/", response_body='{"view": "sync"}', response_headers=())

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"view": "edited"}')

    app = build(main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = ReplayScreen(
            original, "http://127.0.0.1:8000", transport=httpx.MockTransport(handler)
        )
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.diff is not None, 10, "the replay")
        text = plain(screen.query_one("#replay-diff"))
        assert "response changed" in text
        assert '-  "view": "sync"' in text and '+  "view": "edited"' in text


async def test_shift_r_replays_the_selected_request_and_reports_failure() -> None:
    # A port that is bound but not listening refuses connections, whatever else runs here
    # (the scripted server's own 8000 may well be in use on a developer's machine).
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed_port.getsockname()[1]}"
        script = [
            dataclasses.replace(e, url=url) if isinstance(e, ServerStarted) else e
            for e in main_script()
        ]
        await _replay_fails(script)


async def _replay_fails(script: list[Event]) -> None:
    app = build(script)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = app.main_screen.query_one(RequestLog)
        log.focus()
        log.move_cursor(row=0)
        await pilot.pause()
        await pilot.press("R")
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        # The scripted app has no server behind it: the screen says so instead of crashing.
        await wait_for(
            pilot,
            lambda: "Could not replay" in plain(screen.query_one("#replay-diff")),
            10,
            "the replay to fail",
        )
