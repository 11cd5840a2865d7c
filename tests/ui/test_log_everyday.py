"""Pilot tests of issue 14's log/status items: one-line status bar, invalid filters, the empty
log hint, the row cap, start-time order, console keys. Scripted runtime, driven through keys."""

from __future__ import annotations

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.widgets.status_bar import StatusBar
from tests.ui.conftest import settle
from tests.ui.scripted import T0, main_script, make_config, scripted_factory


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
