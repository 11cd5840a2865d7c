"""Unit tests for the ring buffer, percentiles, per-view aggregates and the log model."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence

import pytest

from asgi_dashboard.events import ServerFailed, ServerStarting, ServerStopped, WsFrame
from asgi_dashboard.model import Dashboard, ServerStatus
from asgi_dashboard.stats import SAMPLE_WINDOW, RingBuffer, ViewStats, percentile
from tests.ui.scripted import MS, request, sample_requests, started


def reference_percentile(values: Sequence[float], q: float) -> float:
    """Straightforward definition: linear interpolation between closest ranks."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100
    lower = int(pos)
    upper = min(lower + 1, len(data) - 1)
    return data[lower] + (data[upper] - data[lower]) * (pos - lower)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 1000])
def test_percentiles_match_reference(n: int) -> None:
    rng = random.Random(n)
    values = [rng.uniform(0, 500) for _ in range(n)]
    ordered = sorted(values)
    for q in (0, 1, 25, 50, 90, 95, 99, 100):
        assert percentile(ordered, q) == pytest.approx(reference_percentile(values, q))


def test_percentiles_agree_with_statistics_module() -> None:
    values = [float(v) for v in range(1, 201)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert percentile(values, 50) == pytest.approx(cuts[49])
    assert percentile(values, 95) == pytest.approx(cuts[94])
    assert percentile(values, 99) == pytest.approx(cuts[98])


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 50) == 0.0


def test_ring_buffer_is_bounded_and_evicts_oldest() -> None:
    ring: RingBuffer[int] = RingBuffer(3)
    evicted = [ring.append(i) for i in range(5)]
    assert evicted == [None, None, None, 0, 1]
    assert list(ring) == [2, 3, 4]
    assert len(ring) == 3
    assert ring.appended == 5 and ring.evicted == 2
    assert ring.last(2) == [3, 4]
    assert ring.last(10) == [2, 3, 4]
    assert ring.last(0) == []
    ring.clear()
    assert list(ring) == []


def test_ring_buffer_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_view_stats_incremental_updates() -> None:
    stats = ViewStats()
    totals = [5, 10, 15, 20, 100]
    for i, t in enumerate(totals, 1):
        stats.add(request(i, total_ns=t * MS, view_ns=t * MS // 2, sql_count=i), is_error=i == 5)
        agg = stats.by_key[("polls/", "polls.views.index")]
        assert agg.count == i
        assert agg.p(50) == pytest.approx(reference_percentile([x * MS for x in totals[:i]], 50))
    assert agg.errors == 1
    assert agg.max_ns == 100 * MS
    assert agg.mean_sql == pytest.approx(3.0)
    assert agg.mean_view_ns == pytest.approx(sum(totals) * MS / 2 / 5)
    assert agg.kind == "sync"


def test_view_stats_window_is_bounded_but_counts_exact() -> None:
    stats = ViewStats()
    for i in range(SAMPLE_WINDOW + 500):
        stats.add(request(i, total_ns=(i + 1) * 1000), is_error=False)
    agg = next(iter(stats.by_key.values()))
    assert agg.count == SAMPLE_WINDOW + 500
    assert len(agg.recent) == SAMPLE_WINDOW
    assert agg.max_ns == (SAMPLE_WINDOW + 500) * 1000
    # Percentiles are over the most recent window only.
    recent = [(i + 1) * 1000 for i in range(500, SAMPLE_WINDOW + 500)]
    assert agg.p(95) == pytest.approx(reference_percentile(recent, 95))


def test_view_stats_groups_static_and_unresolved_and_sorts() -> None:
    stats = ViewStats()
    for event in sample_requests():
        if hasattr(event, "status") and hasattr(event, "total_ns"):
            stats.add(event, is_error=event.status >= 500)  # type: ignore[arg-type]
    views = [a.view for a in stats.rows("p95", reverse=True)]
    assert views[0] == "polls.views.broken"
    assert "(static files)" in views and "(no view)" in views
    by_count = stats.rows("view", reverse=False)
    assert [a.view for a in by_count] == sorted(views, key=str.lower)


def test_dashboard_ingest_builds_rows_and_ws_updates() -> None:
    dash = Dashboard(history=100)
    out = dash.ingest([started(), *sample_requests()])
    assert out.started and out.status_changed
    methods = [item.method for item in out.new_items]
    assert methods.count("WS") == 1 and len(out.new_items) == 8
    ws = next(item for item in out.new_items if item.is_ws)
    assert ws.status == 101 and ws.badge == "ws" and ws.view == "chat.consumers.ChatConsumer"
    assert ws.total_ns == 3000 * MS
    assert dash.status.requests == 7 and dash.status.errors == 1
    assert dash.views.total_count() == 7
    # A frame on a known connection updates counts but does not produce a row update.
    dash.ingest([WsFrame(id="x", direction="in", size=1)])


def test_dashboard_history_bounded_and_clear_keeps_server_totals() -> None:
    dash = Dashboard(history=50)
    dash.ingest([request(i) for i in range(200)])
    assert len(dash.history) == 50
    assert dash.history.last(1)[0].entry.id == "1-199"
    assert dash.views.total_count() == 200
    dash.clear()
    assert len(dash.history) == 0 and dash.views.total_count() == 0
    assert dash.status.requests == 200


def test_server_status_lifecycle() -> None:
    status = ServerStatus()
    assert status.state == "waiting"
    status.apply(ServerStarting(mode="child", generation=1))
    # mypy keeps the narrowing from the assert above across apply(): comparison-overlap.
    assert status.state == "starting"  # type: ignore[comparison-overlap]
    status.apply(started(1))
    assert status.state == "running" and status.restarts == 0 and status.pid == 4242
    status.apply(ServerStarting(mode="child", generation=2))
    assert status.state == "restarting"
    # The old generation's stop arrives after the new one starts: ignored.
    status.apply(started(2))
    status.apply(ServerStopped(pid=1, generation=1))
    assert status.state == "running" and status.restarts == 1
    status.apply(ServerStopped(pid=4242, generation=2, reason="crashed"))
    assert status.state == "crashed"
    status.apply(ServerFailed(message="boom", phase="import", generation=3))
    assert status.state == "failed" and status.failure is not None


def test_refused_requests_count_under_their_view_apart_from_404s() -> None:
    csrf = "django.middleware.csrf.CsrfViewMiddleware"
    stats = ViewStats()
    stats.add(request(1), is_error=False)
    stats.add(request(2, method="POST", status=403, view_ns=None, answered_by=csrf), False)
    stats.add(request(3, method="POST", status=403, view_ns=None, answered_by=csrf), False)
    stats.add(request(4, path="/nope/", status=404, view=None, kind=None, route=None), False)
    served = stats.by_key[("polls/", "polls.views.index")]
    refused = stats.by_key[("polls/", "polls.views.index", csrf)]
    missing = stats.by_key[("", "(no view)")]
    assert (served.count, refused.count, missing.count) == (1, 2, 1)
    assert (served.kind, refused.kind) == ("sync", "by mw")
    assert refused.view == served.view and refused.answered_by == csrf
    assert refused.mean_view_ns is None  # the view never ran
    # An unknown URL a middleware answered (a login redirect) is not lumped with 404s either.
    stats.add(
        request(5, path="/x/", status=302, view=None, kind=None, route=None, answered_by=csrf),
        False,
    )
    assert stats.by_key[("", "(no view)", csrf)].count == 1 and missing.count == 1
