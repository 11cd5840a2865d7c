"""Snapshot tests (pytest-textual-snapshot) of the main screens, with fixed data and clock.

Every app here is built by the same ``make_app`` the CLI uses, fed by a scripted runtime whose
events have fixed timestamps; ``app.clock`` is pinned so the uptime is fixed too, and the
``utc`` fixture (conftest) pins the time zone. Update with ``--snapshot-update`` after looking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from textual.pilot import Pilot

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import Event
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import settle
from tests.ui.scripted import T0, failure_script, main_script, make_config, scripted_factory

WIDE = (160, 48)
NARROW = (100, 30)


def build(script: Sequence[Event]) -> DashboardApp:
    app = make_app(make_config(), scripted_factory(script))
    app.clock = lambda: T0 + 125
    return app


def then(*steps: Callable[[Pilot[object]], Awaitable[None]]):  # type: ignore[no-untyped-def]
    """A run_before that settles the event pump, then runs the steps."""

    async def run_before(pilot: Pilot[object]) -> None:
        await settle(pilot)
        for step in steps:
            await step(pilot)
        await pilot.pause()

    return run_before


def open_row(path: str) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def step(pilot: Pilot[object]) -> None:
        app = pilot.app
        assert isinstance(app, DashboardApp)
        log = app.main_screen.query_one(RequestLog)
        index = next(i for i, item in enumerate(log.shown.values()) if item.entry.path == path)
        log.move_cursor(row=index)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    return step


def press(*keys: str) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def step(pilot: Pilot[object]) -> None:
        await pilot.press(*keys)

    return step


def test_main_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=WIDE, run_before=then())


def test_main_screen_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=NARROW, run_before=then())


def test_view_stats(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=WIDE, run_before=then(press("2")))


def test_view_stats_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=NARROW, run_before=then(press("2")))


def test_console(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=WIDE, run_before=then(press("3")))


def test_detail_error(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(main_script()), terminal_size=WIDE, run_before=then(open_row("/async/broken/"))
    )


def test_detail_sql(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(main_script()),
        terminal_size=WIDE,
        run_before=then(open_row("/polls/1/"), press("3")),
    )


def test_detail_request_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(main_script()), terminal_size=NARROW, run_before=then(open_row("/polls/1/vote/"))
    )


def test_startup_error(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(failure_script()), terminal_size=WIDE, run_before=then())


def test_startup_error_narrow(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(failure_script()), terminal_size=NARROW, run_before=then())


def test_filter_invalid(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(main_script()),
        terminal_size=WIDE,
        run_before=then(press("slash", *"kind:fast")),
    )


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(main_script()), terminal_size=WIDE, run_before=then(press("question_mark"))
    )


SMALL = (80, 24)


def test_export_dialog(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=WIDE, run_before=then(press("e")))


def test_export_dialog_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(main_script()), terminal_size=SMALL, run_before=then(press("e")))
