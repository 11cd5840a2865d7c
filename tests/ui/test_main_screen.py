"""Pilot tests of the main screen, driven by a scripted runtime (no processes, no sockets)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import TabbedContent

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import ServerStarting, WsAccepted, WsOpened
from asgi_dashboard.screens.help import HelpScreen
from asgi_dashboard.screens.main import MainScreen
from asgi_dashboard.widgets.error_panel import StartupErrorPanel
from asgi_dashboard.widgets.filter_bar import FilterBar
from asgi_dashboard.widgets.request_log import RequestLog
from asgi_dashboard.widgets.status_bar import StatusBar
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import (
    T0,
    ScriptedRuntime,
    failure_script,
    main_script,
    make_config,
    request,
    scripted_factory,
    started,
)

SIZE = (160, 48)


def build(script=None, runtimes=None, **config) -> DashboardApp:  # type: ignore[no-untyped-def]
    app = make_app(
        make_config(**config),
        scripted_factory(main_script() if script is None else script, runtimes),
    )
    app.clock = lambda: T0 + 125
    return app


def plain(cell: object) -> str:
    """The text of a table cell (the log and stats tables hold Rich ``Text`` cells)."""
    assert isinstance(cell, Text), cell
    return cell.plain


def log_of(app: DashboardApp) -> RequestLog:
    return app.main_screen.query_one(RequestLog)


def paths(app: DashboardApp) -> list[str]:
    return [item.entry.path for item in log_of(app).shown.values()]


async def test_rows_appear_and_status_bar_shows_server() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build(runtimes=runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert runtimes[0].calls == ["start"]
        # Static files are hidden by default; the WebSocket is a row too.
        assert paths(app) == [
            "/polls/",
            "/polls/1/",
            "/api/stats",
            "/nope",
            "/polls/1/vote/",
            "/async/broken/",
            "/ws/chat/lobby/",
        ]
        assert len(app.model.history) == 8
        status = str(app.main_screen.query_one(StatusBar).render_status())
        for fragment in (
            "running",
            "http://127.0.0.1:8000",
            "pid 4242",
            "up 2m 05s",
            "requests 7",
            "errors 1",
            "Django 5.2.1",
            "Uvicorn 0.34.0",
        ):
            assert fragment in status, fragment
        assert isinstance(app.screen, MainScreen)


async def test_follow_and_unfollow() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build([started(), *[request(i) for i in range(100)]], runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        assert log.following and log.cursor_row == log.row_count - 1
        await pilot.press("up", "up")
        assert not log.following
        info = str(app.main_screen.query_one("#log-info").render())
        assert "not following" in info
        watched = log.item_at_cursor()
        assert watched is not None
        runtimes[0].emit(*[request(i) for i in range(100, 110)])
        await settle(pilot)
        assert log.row_count == 110
        assert log.item_at_cursor() is watched, "the selected row must stay selected"
        await pilot.press("f")
        assert log.following and log.cursor_row == log.row_count - 1
        assert "following newest" in str(app.main_screen.query_one("#log-info").render())
        runtimes[0].emit(request(200))
        await settle(pilot)
        assert log.item_at_cursor().entry.id == "1-200"
        # Going back to the newest row with the keyboard follows again.
        await pilot.press("up")
        assert not log.following
        await pilot.press("end")
        assert log.following


async def test_scrolling_up_stops_following() -> None:
    app = build([started(), *[request(i) for i in range(200)]])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        await wait_for(pilot, lambda: log.scroll_y > 0, what="the log to scroll to the end")
        # A mouse wheel turn over the table (Pilot has no scroll helper).
        for _ in range(3):
            log.post_message(events.MouseScrollUp(log, 10, 5, 0, -1, 0, False, False, False))
        await pilot.pause()
        assert not log.following
        assert log.scroll_y < log.max_scroll_y
        # New rows do not drag the view back down while not following.
        before = log.scroll_y
        app.runtime.emit(request(500))
        await settle(pilot)
        assert log.scroll_y == before


async def test_static_toggle() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "/static/app.css" not in paths(app)
        await pilot.press("s")
        assert "/static/app.css" in paths(app)
        await pilot.press("s")
        assert "/static/app.css" not in paths(app)


FILTER_CASES = {
    "polls": ["/polls/", "/polls/1/", "/polls/1/vote/", "/async/broken/"],
    "status:5xx": ["/async/broken/"],
    "status:404": ["/nope"],
    "kind:async": ["/api/stats", "/async/broken/"],
    "kind:static": ["/static/app.css"],
    "view:polls.views": ["/polls/", "/polls/1/", "/polls/1/vote/", "/async/broken/"],
    "method:POST": ["/polls/1/vote/"],
    "slow:>200ms": ["/async/broken/", "/ws/chat/lobby/"],
    "sql:>5": ["/polls/1/"],
    "ws": ["/ws/chat/lobby/"],
    "error": ["/async/broken/"],
    "kind:sync sql:>2": ["/polls/1/", "/polls/1/vote/"],
    "": [
        "/polls/",
        "/polls/1/",
        "/api/stats",
        "/nope",
        "/polls/1/vote/",
        "/async/broken/",
        "/ws/chat/lobby/",
    ],
}


async def test_each_filter_term() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The keyboard path once: "/" focuses the filter, typing filters as you type.
        await pilot.press("slash", *"status:5xx")
        bar = app.main_screen.query_one(FilterBar)
        assert app.focused is bar.input
        assert paths(app) == ["/async/broken/"]
        # Typing "s" into the filter must not toggle static files.
        assert not app.main_screen.show_static
        for text, expected in FILTER_CASES.items():
            bar.input.value = text
            await pilot.pause()
            assert paths(app) == expected, text
        await pilot.press("escape")
        # mypy keeps app.focused narrowed to Input from the assert above: comparison-overlap.
        assert app.focused is log_of(app)  # type: ignore[comparison-overlap]


async def test_invalid_filter_says_why_and_keeps_last_filter() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.main_screen.query_one(FilterBar)
        bar.input.value = "error"
        await pilot.pause()
        bar.input.value = "status:abc"
        await pilot.pause()
        feedback = str(bar.query_one("#filter-feedback").render())
        assert "status:abc is not a status" in feedback
        assert bar.has_class("-invalid")
        assert paths(app) == ["/async/broken/"]
        bar.input.value = "kind:fast slow:"
        await pilot.pause()
        assert bar.has_class("-invalid")
        bar.input.value = "ws"
        await pilot.pause()
        assert not bar.has_class("-invalid")
        assert paths(app) == ["/ws/chat/lobby/"]


async def test_pause_resume_and_clear() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build(runtimes=runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        runtimes[0].emit(request(50, path="/later/"))
        await settle(pilot)
        assert "/later/" not in paths(app)
        assert "1 new" in str(app.main_screen.query_one("#log-info").render())
        await pilot.press("p")
        assert paths(app)[-1] == "/later/"
        await pilot.press("ctrl+l")
        assert log_of(app).row_count == 0
        assert app.model.views.total_count() == 0
        assert app.model.status.requests == 8  # server totals survive a clear


async def test_websocket_row_updates_in_place() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build([started(), WsOpened(ts=T0 + 1, id="w1", path="/ws/echo/")], runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        assert plain(log.get_row_at(0)[3]) == "…"  # handshake pending
        runtimes[0].emit(WsAccepted(ts=T0 + 1.1, id="w1", consumer="echo.consumers.Echo"))
        await settle(pilot)
        assert plain(log.get_row_at(0)[3]) == "101"
        assert "echo.consumers.Echo" in plain(log.get_row_at(0)[4])


async def test_startup_failure_panel_then_recovery() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build(failure_script(), runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.main_screen.query_one(StartupErrorPanel)
        assert panel.display
        message = str(panel.query_one("#failure-message").render())
        assert "could not be imported" in message
        assert "ModuleNotFoundError" in str(panel.query_one("#failure-traceback").render())
        assert app.model.status.state == "failed"
        # The app stays open; a later successful start hides the panel.
        runtimes[0].emit(ServerStarting(mode="child", generation=2), started(2))
        await settle(pilot)
        assert not panel.display
        assert app.model.status.state == "running"


async def test_restart_quit_and_help_keys() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build(runtimes=runtimes)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: "restart:manual" in runtimes[0].calls)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {
            "Restart server",
            "Export HAR",
            "Filter requests",
            "Clear log",
            "Pause / resume log",
            "Toggle static files",
            "Help",
        } <= titles
        await pilot.press("q")
        await wait_for(pilot, lambda: "stop" in runtimes[0].calls)
    assert runtimes[0].calls[-1] == "stop"
    assert runtimes[0].calls.count("stop") == 1


async def test_flood_of_20k_events_is_absorbed_and_app_responds() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = build([started()], runtimes, history=5000)
    flood = [
        request(
            i,
            id=f"f-{i}",
            path=f"/item/{i % 50}/",
            view=f"shop.views.v{i % 7}",
            total_ns=(i % 300) * 100_000,
        )
        for i in range(20_000)
    ]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Delivered the way a busy runtime does: many callbacks of a few hundred events.
        for start in range(0, len(flood), 500):
            runtimes[0].on_events(flood[start : start + 500])
        await pilot.press("2")  # a key pressed mid-flood is handled
        await wait_for(
            pilot,
            lambda: app.main_screen.query_one("#tabs", TabbedContent).active == "views",
            timeout=5,
            what="the key press",
        )
        await settle(pilot, timeout=30)
        assert app.model.views.total_count() == 20_000
        assert app.model.status.requests == 20_000
        assert len(app.model.history) == 5000
        log = log_of(app)
        assert 0 < log.row_count <= log.max_rows * 5 // 4
        await pilot.press("1")
        assert app.main_screen.query_one("#tabs", TabbedContent).active == "requests"


async def test_view_stats_sorting_by_key_and_header_click() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        table = app.main_screen.view_stats
        await wait_for(pilot, lambda: table.row_count == 7)

        def first_view() -> str:
            return plain(table.get_row_at(0)[1])

        assert first_view() == "polls.views.broken"  # p95 descending by default
        await pilot.press("O")  # reverse
        assert first_view() == "(static files)"
        await pilot.click(table, offset=(30, 0))  # the "view" header (after the 22-cell route)
        await pilot.pause()
        assert table.sort_key == "view" and not table.sort_reverse
        assert first_view() == "(no view)"
        await pilot.press("o")
        assert table.sort_key == "kind"


async def test_resize_to_narrow_relayouts_and_themes_switch() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = log_of(app)
        assert log.layout_spec.time_fmt == "long"
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert log.layout_spec.time_fmt == "short"
        assert log.row_count == 7 and log.following
        before = app.main_screen.palette
        app.theme = "textual-light"
        await pilot.pause()
        assert app.main_screen.palette != before
        assert log.row_count == 7
        await pilot.press("u")
        assert app.clipboard == "http://127.0.0.1:8000"


async def test_status_bar_shows_loop_lag() -> None:
    from asgi_dashboard.events import LoopLag

    app = build(
        script=[*main_script(), LoopLag(ts=T0 + 3, current_ns=2_000_000, max_ns=250_000_000)]
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = str(app.main_screen.query_one(StatusBar).render_status())
        assert "loop lag 2/250ms" in status
