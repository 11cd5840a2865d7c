"""The TUI with ``--workers 2`` (Pilot, scripted events): the log's worker column, the status
bar's workers and the in-memory channel layer warning, the ``worker:`` filter on the log."""

from __future__ import annotations

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import Event, RequestFinished, ServerStarted, ServerStarting
from asgi_dashboard.widgets.filter_bar import FilterBar
from asgi_dashboard.widgets.request_log import RequestLog
from asgi_dashboard.widgets.status_bar import StatusBar
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import T0, make_config, scripted_factory

SIZE = (160, 48)
IN_MEMORY = "channels.layers.InMemoryChannelLayer"


def started(worker: int, pid: int, workers: int = 2) -> ServerStarted:
    return ServerStarted(
        ts=T0, url="http://127.0.0.1:8000", pid=pid, mode="child", host="127.0.0.1",
        port=8000, generation=1, worker=worker, workers=workers, channel_layer=IN_MEMORY,
    )  # fmt: skip


def request(n: int, worker: int, pid: int) -> RequestFinished:
    return RequestFinished(
        ts=T0 + n, id=f"1.{worker}-{n}" if worker else f"1-{n}", method="GET",
        path=f"/cpu/{n}/", status=200, worker=worker, worker_pid=pid,
        view="demoapp.views.cpu_view", kind="async", total_ns=5_000_000,
    )  # fmt: skip


def build(script: list[Event]) -> DashboardApp:
    app = make_app(make_config(workers=2), scripted_factory(script))
    app.clock = lambda: T0 + 5
    return app


async def test_worker_column_status_and_filter_with_two_workers() -> None:
    script: list[Event] = [
        ServerStarting(ts=T0 - 0.5, mode="child", generation=1),
        started(1, 501),
        started(2, 502),
        *(request(n, 1 + n % 2, 501 + n % 2) for n in range(1, 7)),
    ]
    app = build(script)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = app.main_screen.query_one(RequestLog)
        assert log.worker_column and log.layout_spec.columns()[1][0] == "wk"
        worker_cells = [str(log.get_row_at(i)[1]) for i in range(log.row_count)]
        assert worker_cells == ["2", "1", "2", "1", "2", "1"]
        status_bar = app.main_screen.query_one(StatusBar)
        bar = status_bar.render_status(160).plain
        assert "2 workers (pids 501, 502)" in bar
        assert "in-memory channel layer" in bar
        # Narrow: the URL stays, the warning is said in short (in full in the console).
        narrow = status_bar.render_status(80).plain
        assert "http://127.0.0.1:8000" in narrow and "⚠ in-memory layer" in narrow
        assert "groups stay" not in narrow
        # The filter: only worker 2's rows, then only the pid of worker 1.
        app.main_screen.query_one(FilterBar).input.value = "worker:2"
        await wait_for(pilot, lambda: log.row_count == 3, what="worker:2 rows")
        assert {item.entry.worker for item in log.shown.values()} == {2}
        app.main_screen.query_one(FilterBar).input.value = "worker:501"
        await wait_for(
            pilot,
            lambda: {item.entry.worker_pid for item in log.shown.values()} == {501},
            what="worker:501 rows",
        )


async def test_no_worker_column_for_one_process() -> None:
    script: list[Event] = [
        ServerStarting(ts=T0 - 0.5, mode="child", generation=1),
        started(0, 42, workers=1),
        *(request(n, 0, 42) for n in range(1, 4)),
    ]
    app = build(script)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        log = app.main_screen.query_one(RequestLog)
        assert not log.worker_column
        assert "wk" not in [title for title, _, _ in log.layout_spec.columns()]
        bar = app.main_screen.query_one(StatusBar).render_status(160).plain
        assert "pid 42" in bar and "workers" not in bar and "channel layer" not in bar
