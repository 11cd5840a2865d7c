"""Pilot tests of issue 14's log/status items: one-line status bar, invalid filters, the empty
log hint, the row cap, start-time order, console keys. Scripted runtime, driven through keys."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import ConsoleOutput, FilesChanged, ReloadFinished, RequestFinished
from asgi_dashboard.widgets.console import ConsoleLog
from asgi_dashboard.widgets.filter_bar import FilterBar
from asgi_dashboard.widgets.request_log import RequestLog
from asgi_dashboard.widgets.status_bar import StatusBar
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import (
    T0,
    ScriptedRuntime,
    main_script,
    make_config,
    request,
    scripted_factory,
    started,
)


def build(script=None) -> DashboardApp:  # type: ignore[no-untyped-def]
    app = make_app(make_config(), scripted_factory(main_script() if script is None else script))
    app.clock = lambda: T0 + 125
    return app


def bar_text(app: DashboardApp) -> str:
    bar = app.main_screen.query_one(StatusBar)
    return bar.render_status(bar.content_size.width).plain


async def test_status_bar_is_one_line_and_drops_least_useful_fields() -> None:
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        bar = app.main_screen.query_one(StatusBar)
        assert bar.size.height == 1
        wide = bar_text(app)
        assert "Uvicorn" in wide and "pid 4242" in wide
        assert len(wide) <= bar.content_size.width
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        mid = bar_text(app)
        assert bar.size.height == 1 and len(mid) <= bar.content_size.width
        assert "requests 7" in mid and "errors 1" in mid
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        narrow = bar_text(app)
        assert bar.size.height == 1 and len(narrow) <= bar.content_size.width
        assert "Uvicorn" not in narrow and "pid" not in narrow
        for kept in ("running", "http://127.0.0.1:8000", "errors 1"):
            assert kept in narrow


async def test_invalid_filter_typed_keeps_last_valid_filter_and_says_why() -> None:
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        log = app.main_screen.query_one(RequestLog)
        everything = log.row_count
        await pilot.press("slash", *"status:abc")
        bar = app.main_screen.query_one(FilterBar)
        assert bar.has_class("-invalid")
        feedback = str(bar.query_one("#filter-feedback").render())
        assert "status:abc is not a status" in feedback and "showing all requests" in feedback
        # Not "0 shown" under a stale text search for "status".
        assert log.row_count == everything
        await pilot.press(*["backspace"] * 3, *"5xx", "enter")
        assert not bar.has_class("-invalid")
        assert [i.entry.path for i in log.shown.values()] == ["/async/broken/"]
        await pilot.press(*" kind:bogus")
        assert "kind:bogus is not a kind" in str(bar.query_one("#filter-feedback").render())
        assert [i.entry.path for i in log.shown.values()] == ["/async/broken/"]


async def test_empty_log_shows_url_curl_and_demo_views_until_a_request() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = make_app(make_config(is_demo=True), scripted_factory([started()], runtimes))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        hint = app.main_screen.query_one("#log-empty", Static)
        assert hint.display
        text = str(hint.render())
        assert "curl -i http://127.0.0.1:8000/" in text
        assert "http://127.0.0.1:8000/orm/n-plus-one/" in text
        runtimes[0].emit(request(1))
        await wait_for(pilot, lambda: not hint.display)


def info_text(app: DashboardApp) -> str:
    return str(app.main_screen.query_one("#log-info", Static).render())


async def test_log_shows_the_whole_history_and_says_when_older_dropped() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = make_app(make_config(history=1000), scripted_factory([started()], runtimes))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        runtimes[0].emit(*[request(i, ts=T0 + i / 1000) for i in range(1, 801)])
        log = app.main_screen.query_one(RequestLog)
        await wait_for(pilot, lambda: log.row_count == 800, what="800 rows")
        assert "800 shown · 800 in history" in info_text(app)
        await pilot.press("home")
        assert log.item_at_cursor() is not None
        runtimes[0].emit(*[request(i, ts=T0 + i / 1000) for i in range(801, 1201)])
        await wait_for(pilot, lambda: log.row_count == 1000, what="1000 rows")
        assert "200 older dropped (--history 1000)" in info_text(app)


async def test_static_toggle_label_says_shown_or_hidden() -> None:
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert "static hidden (s)" in info_text(app)
        await pilot.press("s")
        assert "static shown (s)" in info_text(app)
        await pilot.press("s")
        assert "static hidden (s)" in info_text(app)


def fanout() -> list[RequestFinished]:
    """A fan-out view that finishes after the two sub-requests it started."""
    return [
        request(2, ts=T0 + 1.1, path="/api/data1/"),
        request(3, ts=T0 + 1.2, path="/api/data2/"),
        request(1, ts=T0 + 1.0, path="/fanout/"),
    ]


async def test_o_orders_rows_by_start_time_and_back() -> None:
    runtimes: list[ScriptedRuntime] = []
    app = make_app(make_config(), scripted_factory([started(), *fanout()], runtimes))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        log = app.main_screen.query_one(RequestLog)

        def paths() -> list[str]:
            return [item.entry.path for item in log.shown.values()]

        assert paths() == ["/api/data1/", "/api/data2/", "/fanout/"]
        assert "by start" not in info_text(app)
        await pilot.press("o")
        assert paths() == ["/fanout/", "/api/data1/", "/api/data2/"]
        assert "by start time (o)" in info_text(app)
        # A late finisher that started first goes above, not at the bottom.
        runtimes[0].emit(request(9, ts=T0 + 1.05, path="/late/"))
        await wait_for(pilot, lambda: len(paths()) == 4)
        assert paths() == ["/fanout/", "/late/", "/api/data1/", "/api/data2/"]
        await pilot.press("o")
        assert paths() == ["/api/data1/", "/api/data2/", "/fanout/", "/late/"]


async def test_console_home_end_and_wrapped_lines_keep_their_indent() -> None:
    long = "word " * 60
    lines = [
        ConsoleOutput(ts=T0 + i, stream="stdout", text=f"line {i}" + (f" {long}" if i == 0 else ""))
        for i in range(80)
    ]
    app = make_app(make_config(), scripted_factory([started(), *lines]))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        console = app.main_screen.query_one(ConsoleLog)
        await wait_for(pilot, lambda: len(console.lines) > 80, what="console lines")
        assert app.focused is console
        texts = [strip.text for strip in console.lines]
        at = next(i for i, text in enumerate(texts) if "line 0" in text)
        first = texts[at : at + 2]
        indent = first[0].index("line 0")
        assert indent > 0
        # The long first entry wraps; its continuation lines start under its text.
        assert first[1].startswith(" " * indent) and first[1][indent] != " "
        await pilot.press("home")
        await pilot.pause()
        assert console.scroll_y == 0
        await pilot.press("end")
        await wait_for(pilot, lambda: console.scroll_y == console.max_scroll_y > 0)


async def test_reloads_detail_is_cut_with_an_ellipsis_to_fit() -> None:
    reason = "settings.py is loaded at start-up, so a change needs a full restart " * 3
    script = [started(), FilesChanged(ts=T0 + 5, paths=("/tmp/x/settings.py",), action="restart")]
    script.append(
        ReloadFinished(ts=T0 + 6, generation=2, path="spawn", duration_ns=10**9, reason=reason)
    )
    app = make_app(make_config(), scripted_factory(script))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        table = app.main_screen.query_one("#reload-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        detail = str(table.get_row_at(0)[-1])
        assert detail.endswith("…") and len(detail) < len(reason)
        assert table.virtual_size.width <= table.size.width
