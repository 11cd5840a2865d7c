"""``--workers N`` without processes: the ``worker:`` filter, the status, the log column, the
in-memory channel layer warning, the CLI's checks, and the worker column in the TUI (Pilot)."""

from __future__ import annotations

import io

import pytest

from asgi_dashboard.cli import build_parser, config_from_args, with_command
from asgi_dashboard.config import DashboardConfig, DiscoveryError
from asgi_dashboard.describe import describe
from asgi_dashboard.events import Event, RequestFinished, ServerStarted, ServerStopped, WsOpened
from asgi_dashboard.filters import FilterError, parse
from asgi_dashboard.headless import HeadlessPrinter
from asgi_dashboard.model import Dashboard
from asgi_dashboard.model.rows import LogItem, WsConnection
from asgi_dashboard.model.status import ServerStatus, channel_layer_warning
from asgi_dashboard.model.ws import ServerConnection
from asgi_dashboard.widgets.log_cells import Layout
from asgi_dashboard.widgets.palette import Palette
from asgi_dashboard.widgets.ws_views import describe_server
from tests.conftest import DEMO_DIR
from tests.ui.scripted import T0, make_config

IN_MEMORY = "channels.layers.InMemoryChannelLayer"


def started(worker: int, pid: int, generation: int = 1, **kw: object) -> ServerStarted:
    fields: dict[str, object] = {
        "url": "http://127.0.0.1:8000",
        "mode": "child",
        "host": "127.0.0.1",
        "port": 8000,
        "workers": 2,
        "channel_layer": IN_MEMORY,
        **kw,
    }
    return ServerStarted(ts=T0, pid=pid, generation=generation, worker=worker, **fields)  # type: ignore[arg-type]


def request(n: int, worker: int, pid: int) -> RequestFinished:
    return RequestFinished(
        ts=T0 + n, id=f"1.{worker}-{n}", method="GET", path="/cpu/", status=200, worker=worker,
        worker_pid=pid, view="demoapp.views.cpu_view", kind="async", total_ns=5_000_000,
    )  # fmt: skip


def item(n: int, worker: int, pid: int) -> LogItem:
    return LogItem(n, request(n, worker, pid))


# -- the worker: filter term ---------------------------------------------------------------------


def test_worker_filter_by_index_pid_and_alternatives() -> None:
    one, two, single = item(1, 1, 501), item(2, 2, 502), item(3, 0, 777)
    ws = LogItem(4, WsConnection(id="1.2-9", ts=T0, path="/ws/", worker=2, worker_pid=502))
    rows = [one, two, single, ws]
    assert [r.seq for r in rows if parse("worker:2").matches(r)] == [2, 4]
    assert [r.seq for r in rows if parse("worker:501").matches(r)] == [1]
    assert [r.seq for r in rows if parse("worker:1,777").matches(r)] == [1, 3]
    assert [r.seq for r in rows if parse("-worker:2").matches(r)] == [1, 3]
    assert [r.seq for r in rows if parse("worker:2 ws").matches(r)] == [4]


@pytest.mark.parametrize("text", ["worker:x", "worker:1,", "worker:-1", "worker:"])
def test_worker_filter_rejects_what_is_not_a_worker(text: str) -> None:
    with pytest.raises(FilterError, match="worker"):
        parse(text)


# -- status and model ------------------------------------------------------------------------------


def test_status_counts_one_start_per_generation_and_names_the_workers() -> None:
    status = ServerStatus()
    for event in (started(1, 501), started(2, 502)):
        status.apply(event)
    assert (status.starts, status.restarts, status.state) == (1, 0, "running")
    assert status.workers == {1: 501, 2: 502} and status.pid == 501
    assert status.layer_warning is not None and "one worker" in status.layer_warning
    assert status.multi_worker  # two workers serve: the log shows which one served a row
    # Worker 2 crashes: worker 1 still serves, so the server is not "crashed".
    status.apply(ServerStopped(pid=502, generation=1, worker=2, reason="crashed", restart_in_s=0.5))
    assert status.state == "running" and status.workers == {1: 501}
    status.apply(started(2, 503))  # restarted in place: the same generation, not a new start
    assert status.starts == 1 and status.workers == {1: 501, 2: 503}
    # A reload: the new generation's workers replace the old ones; old stops are ignored.
    status.apply(started(1, 601, generation=2))
    status.apply(ServerStopped(pid=501, generation=1, worker=1, reason="requested"))
    status.apply(started(2, 602, generation=2))
    assert status.starts == 2 and status.workers == {1: 601, 2: 602}
    assert status.state == "running"
    # The last worker of the generation stops: now the server is stopped.
    status.apply(ServerStopped(pid=601, generation=2, worker=1, reason="requested"))
    status.apply(ServerStopped(pid=602, generation=2, worker=2, reason="requested"))
    assert str(status.state) == "stopped"


def test_dashboard_merges_workers_per_view_and_notices_two_workers() -> None:
    model = Dashboard()
    model.ingest([started(1, 501), started(2, 502)])
    changes = model.ingest([request(1, 1, 501), request(2, 2, 502), request(3, 2, 502)])
    assert model.status.multi_worker and changes.status_changed
    (stats,) = [s for s in model.views.rows() if s.view == "demoapp.views.cpu_view"]
    assert stats.count == 3  # one view key for both workers: the stats merge them
    opened = WsOpened(id="1.2-4", path="/ws/echo/", worker=2, worker_pid=502)
    model.ingest([opened])
    row = model.ws_rows["1.2-4"]
    assert (row.worker, row.worker_pid) == (2, 502)


def test_single_process_unchanged() -> None:
    status = ServerStatus()
    status.apply(started(0, 42, workers=1))
    status.apply(request(1, 0, 42))
    assert status.workers == {} and status.pid == 42 and not status.multi_worker
    assert status.layer_warning is None
    assert Layout.for_width(160) == Layout.for_width(160, workers=False)


def test_log_layout_with_workers_keeps_its_width() -> None:
    for width in (80, 120, 160):
        plain, with_workers = Layout.for_width(width), Layout.for_width(width, workers=True)
        titles = [c[0] for c in with_workers.columns()]
        assert titles[1] == "wk" and "wk" not in [c[0] for c in plain.columns()]

        def cells(layout: Layout) -> int:
            return sum(w + 2 for _, w, _ in layout.columns())

        assert cells(with_workers) <= max(cells(plain), width - 2)


# -- the in-memory channel layer warning ---------------------------------------------------------


def test_layer_warning_only_for_several_workers_on_an_in_memory_layer() -> None:
    assert channel_layer_warning(started(1, 1)) is not None
    assert channel_layer_warning(started(0, 1, workers=1)) is None
    redis = "channels_redis.core.RedisChannelLayer"
    assert channel_layer_warning(started(1, 1, channel_layer=redis)) is None
    assert channel_layer_warning(started(1, 1, channel_layer=None)) is None


def test_headless_warns_on_stderr_once() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = HeadlessPrinter(make_config(workers=2), True, out, err=err)
    printer([started(1, 501), started(2, 502)])
    printer([started(1, 601, generation=2)])
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and IN_MEMORY in lines[0] and "REDIS_URL" in lines[0]
    assert out.getvalue().count('"event":"server-started"') == 3  # stdout stays JSON only


def test_headless_without_reload_survives_one_workers_crash() -> None:
    printer = HeadlessPrinter(make_config(workers=2, reload=False), True, io.StringIO())
    printer([ServerStopped(pid=502, generation=1, worker=2, reason="crashed", restart_in_s=0.5)])
    assert not printer.done.is_set()
    printer([ServerStopped(pid=42, generation=1, reason="crashed", restart_in_s=0.5)])
    assert printer.done.is_set() and printer.exit_code == 1


# -- the CLI -------------------------------------------------------------------------------------


def config_for(*args: str) -> DashboardConfig:
    argv = with_command([str(DEMO_DIR), "--no-env-file", *args])
    return config_from_args(build_parser().parse_args(argv))


def test_cli_workers_option() -> None:
    assert config_for("--workers", "2").workers == 2
    assert config_for().workers == 1
    with pytest.raises(DiscoveryError, match="--in-process"):
        config_for("--workers", "2", "--in-process")
    with pytest.raises(DiscoveryError, match="1 or more"):
        config_for("--workers", "0")


def test_websocket_panel_server_side_names_the_worker() -> None:
    opened = WsOpened(id="1.2-4", path="/ws/echo/", worker=2, worker_pid=502)
    text = describe_server(ServerConnection(opened), Palette()).plain
    assert "worker 2 (pid 502)" in text
    single = WsOpened(id="1-4", path="/ws/echo/")
    assert "worker" not in describe_server(ServerConnection(single), Palette()).plain


def line(event: Event) -> str:
    return describe(event).line or ""


def test_console_lines_name_the_worker() -> None:
    assert "pid 502 (worker 2 of 2)" in line(started(2, 502))
    stopped = ServerStopped(pid=502, generation=1, worker=2, reason="crashed", restart_in_s=0.5)
    assert "pid 502 (worker 2) stopped" in line(stopped)
    assert "pid 42 stopped" in line(ServerStopped(pid=42, reason="requested"))
    assert "pid 42 " in line(started(0, 42, workers=1))
