"""N+1 in the TUI (Pilot): the ``n+1`` filter term typed into the filter bar, the log row's mark,
the Views tab's N+1 column (wide) and its absence at 100 columns, the detail's line."""

from __future__ import annotations

from rich.text import Text

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import Event, FrameInfo, NPlusOne
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.widgets.filter_bar import FilterBar
from asgi_dashboard.widgets.request_log import RequestLog
from asgi_dashboard.widgets.view_stats import ViewStatsTable
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import T0, main_script, make_config, request, scripted_factory

FOUND = NPlusOne(
    10,
    'SELECT "shop_category"."id" FROM "shop_category" WHERE "shop_category"."id" = ? LIMIT ?',
    FrameInfo("/p/shop/views.py", 184, "items", "names.append(item.category.name)"),
    model="shop.Category",
    queryset_model="shop.Item",
    relation="category",
    fix="select_related('category')",
)
VIEW = "shop.views.items"


def flagged(n: int) -> Event:
    return request(n, path=f"/items/{n}/", route="items/<int:n>/", view=VIEW, n_plus_one=(FOUND,))


def build() -> DashboardApp:
    app = make_app(make_config(), scripted_factory([*main_script(), flagged(30), flagged(31)]))
    app.clock = lambda: T0 + 125
    return app


def log_paths(app: DashboardApp) -> list[str]:
    return [item.entry.path for item in app.main_screen.query_one(RequestLog).shown.values()]


def column(table: ViewStatsTable, key: str) -> dict[str, str]:
    """View -> the plain text of column ``key``."""
    keys = list(table.columns)
    view, index = keys.index("view"), keys.index(key)  # type: ignore[arg-type]
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return {str(r[view]): _plain(r[index]) for r in rows}


def _plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


async def test_filter_term_row_mark_and_detail() -> None:
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        everything = log_paths(app)
        assert {"/items/30/", "/items/31/"} < set(everything)
        await pilot.press("slash", *"n+1")
        assert app.focused is app.main_screen.query_one(FilterBar).input
        await wait_for(pilot, lambda: log_paths(app) == ["/items/30/", "/items/31/"])
        bar = app.main_screen.query_one(FilterBar)
        bar.input.value = "-n+1"
        await wait_for(pilot, lambda: len(log_paths(app)) == len(everything) - 2)
        bar.input.value = "n+1"
        await wait_for(pilot, lambda: len(log_paths(app)) == 2)
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        summary = str(app.screen.query_one("#detail-summary").render())
        assert (
            "N+1: 10 queries from shop/views.py:184 — use Item.objects.select_related('category')"
            in summary
        )


async def test_views_tab_has_the_column_when_wide_only() -> None:
    app = build()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        table = app.main_screen.view_stats
        await wait_for(pilot, lambda: VIEW in column(table, "view"))
        counts = column(table, "n_plus_one")
        assert counts[VIEW] == "2"
        assert {v for k, v in counts.items() if k != VIEW} == {"-"}
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: "n_plus_one" not in list(table.columns))
