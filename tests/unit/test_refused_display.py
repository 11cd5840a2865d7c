"""How a request a middleware answered is shown: headless line, request log row, JSON round trip."""

from __future__ import annotations

from asgi_dashboard.events import RequestFinished, decode, encode
from asgi_dashboard.headless import format_request
from tests.ui.scripted import request

CSRF = "django.middleware.csrf.CsrfViewMiddleware"


def refused() -> RequestFinished:
    return request(
        1, method="POST", status=403, view_ns=None, thread_wait_ns=None, answered_by=CSRF
    )


def test_headless_line_says_who_answered() -> None:
    line = format_request(refused())
    assert "polls.views.index [sync]" in line and f"answered by {CSRF}" in line
    assert "answered by" not in format_request(request(2))


def test_answered_by_round_trips_and_defaults_to_none() -> None:
    event = refused()
    assert decode(encode(event)) == event
    assert request(2).answered_by is None


async def test_request_log_row_shows_the_view_and_by_mw() -> None:
    from textual.app import App, ComposeResult

    from asgi_dashboard.model import Dashboard
    from asgi_dashboard.widgets.request_log import RequestLog

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield RequestLog()

    dash = Dashboard()
    dash.ingest([refused(), request(2)])
    items = list(dash.history)
    async with Host().run_test() as pilot:
        log = pilot.app.query_one(RequestLog)
        row_refused = [str(c) for c in log.cells(items[0])]
        row_served = [str(c) for c in log.cells(items[1])]
    assert "polls.views.index" in row_refused and "by mw" in row_refused
    assert "by mw" not in row_served


def test_views_table_row_names_the_answering_middleware() -> None:
    from asgi_dashboard.stats import ViewStats
    from asgi_dashboard.widgets.view_stats import ViewStatsTable

    stats = ViewStats()
    stats.add(refused(), is_error=False)
    stats.add(request(2), is_error=False)
    table = ViewStatsTable(stats)
    rows = {
        agg.answered_by: [str(cell) for cell in table.cells(agg)] for agg in stats.rows("count")
    }
    assert "polls.views.index ← CsrfViewMiddleware" in rows[CSRF]
    assert "by mw" in rows[CSRF]
    assert "polls.views.index" in rows[None] and "sync" in rows[None]
