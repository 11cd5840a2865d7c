"""The Views tab: every column sorts (key or header click), long names use the free width,
the home route reads '/'."""

from __future__ import annotations

from rich.text import Text

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import Event
from asgi_dashboard.widgets.view_stats import SORTABLE, ViewStatsTable
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import MS, T0, main_script, make_config, request, scripted_factory

LONG_VIEW = "project.apps.polls.api.v2.views.QuestionResultsAggregationViewSet.retrieve"


def build(extra: list[Event]) -> DashboardApp:
    app = make_app(make_config(), scripted_factory([*main_script(), *extra]))
    app.clock = lambda: T0 + 125
    return app


def extra_rows() -> list[Event]:
    return [
        request(20, path="/", route="", view="pages.views.home", total_ns=2 * MS),
        request(21, path="/api/v2/q/1/", route="api/v2/q/<int:pk>/", view=LONG_VIEW),
    ]


def column(table: ViewStatsTable, key: str) -> list[str]:
    index = list(table.columns).index(key)  # type: ignore[arg-type]
    cells = [table.get_row_at(i)[index] for i in range(table.row_count)]
    return [c.plain if isinstance(c, Text) else str(c) for c in cells]


async def open_views(pilot, app: DashboardApp, rows: int) -> ViewStatsTable:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("2")
    table = app.main_screen.view_stats
    await wait_for(pilot, lambda: table.row_count == rows)
    return table


async def test_home_route_reads_slash_and_rows_without_a_view_a_dash() -> None:
    app = build(extra_rows())
    async with app.run_test(size=(160, 48)) as pilot:
        table = await open_views(pilot, app, 9)
        routes = dict(zip(column(table, "view"), column(table, "route"), strict=True))
        assert routes["pages.views.home"] == "/"
        assert routes["(no view)"] == "-"


async def test_every_column_sorts_by_key_and_by_header_click() -> None:
    app = build(extra_rows())
    async with app.run_test(size=(160, 48)) as pilot:
        table = await open_views(pilot, app, 9)
        table.focus()
        seen = []
        for _ in SORTABLE:
            await pilot.press("o")
            seen.append(table.sort_key)
        assert sorted(seen) == sorted(SORTABLE)  # o visits every column, route and recent too
        await pilot.click(table, offset=(2, 0))  # the route header
        await pilot.pause()
        assert table.sort_key == "route" and not table.sort_reverse  # names A-Z first
        routes = column(table, "route")
        assert routes == sorted(routes, key=lambda r: "" if r in ("/", "-") else r.lower())
        await pilot.click(table, offset=(2, 0))  # again: reversed
        await pilot.pause()
        assert table.sort_key == "route" and table.sort_reverse


async def test_long_view_names_use_the_free_width_before_shortening() -> None:
    app = build(extra_rows())
    async with app.run_test(size=(220, 40)) as pilot:
        table = await open_views(pilot, app, 9)
        assert table.view_width > 30  # more than the old fixed width at 220 columns
        assert LONG_VIEW in column(table, "view")
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: table.narrow)
        (short,) = [v for v in column(table, "view") if v.endswith("retrieve")]
        assert short != LONG_VIEW and len(short) <= table.view_width
