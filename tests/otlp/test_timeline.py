"""Where child spans go when the event gives only durations (asgi_dashboard/otlp/timeline.py)."""

from __future__ import annotations

from asgi_dashboard.events import RequestFinished, SqlQuery
from asgi_dashboard.otlp.timeline import Interval, request_bounds, request_timeline, wall_ns

TS = 1_800_000_000.25
START = wall_ns(TS)
MS = 1_000_000


def request(**fields: object) -> RequestFinished:
    base: dict[str, object] = {"id": "1-1", "method": "GET", "path": "/", "status": 200, "ts": TS}
    return RequestFinished(**{**base, **fields})  # type: ignore[arg-type]


def rel(interval: Interval) -> tuple[str, float, float, str, int]:
    """An interval in ms from the request's start (readable assertions)."""
    return (
        interval.part,
        (interval.start_ns - START) / MS,
        (interval.end_ns - START) / MS,
        interval.parent,
        interval.index,
    )


def test_sync_view_with_sql_and_in_view_template() -> None:
    event = request(
        total_ns=10 * MS,
        thread_wait_ns=1 * MS,
        view_ns=6 * MS,
        template_ns=2 * MS,
        template_in_view_ns=2 * MS,
        sql=(SqlQuery("SELECT 1", 1 * MS), SqlQuery("SELECT 2", 2 * MS)),
        sql_count=2,
    )
    assert request_bounds(event) == (START, START + 10 * MS)
    assert [rel(i) for i in request_timeline(event)] == [
        ("thread-wait", 0, 1, "request", -1),
        ("view", 1, 7, "request", -1),
        ("template", 5, 7, "view", 1),
        ("sql", 1, 2, "view", 0),
        ("sql", 2, 4, "view", 1),
    ]


def test_statements_that_do_not_fit_the_view_follow_it_under_the_request() -> None:
    # A TemplateResponse rendered after the view, then a session save by a middleware.
    event = request(
        total_ns=10 * MS,
        view_ns=2 * MS,
        template_ns=3 * MS,
        template_in_view_ns=0,
        sql=(SqlQuery("SELECT 1", 1 * MS), SqlQuery("UPDATE s", 2 * MS), SqlQuery("X", 1 * MS)),
        sql_count=3,
    )
    assert [rel(i) for i in request_timeline(event)] == [
        ("view", 0, 2, "request", -1),
        ("template", 2, 5, "request", 0),
        ("sql", 0, 1, "view", 0),
        ("sql", 5, 7, "request", 1),
        ("sql", 7, 8, "request", 2),
    ]


def test_no_view_statements_from_the_start_and_everything_clamped() -> None:
    # A 404 (no view) whose statements add up to more than the request (clock granularity).
    event = request(
        status=404,
        total_ns=3 * MS,
        sql=(SqlQuery("SELECT 1", 2 * MS), SqlQuery("SELECT 2", 2 * MS)),
        sql_count=2,
    )
    out = request_timeline(event)
    assert [rel(i) for i in out] == [("sql", 0, 2, "request", 0), ("sql", 2, 3, "request", 1)]
    assert all(START <= i.start_ns <= i.end_ns <= START + 3 * MS for i in out)


def test_async_view_has_no_thread_wait_and_views_nest() -> None:
    event = request(total_ns=5 * MS, view_ns=4 * MS, kind="async")
    assert [rel(i) for i in request_timeline(event)] == [("view", 0, 4, "request", -1)]
