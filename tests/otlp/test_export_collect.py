"""``asgi-dash collect --otlp``: the spans of processes asgi-dash did not start.

gunicorn with 2 Uvicorn workers runs the demo wrapped by ``asgi_dashboard.attach``; the real
``asgi-dash collect --headless --json --otlp`` receives their events over its Unix socket and
exports them (the runtime's one subscriber hook, as for ``run``) to a receiver decoding OTLP/HTTP.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.attach.support import Lines, gunicorn, load, named, short_dir, stop
from tests.otlp.receiver import OtlpReceiver

pytestmark = pytest.mark.slow

REQUESTS = 30


@contextmanager
def collector_with_otlp(sock: Path, endpoint: str) -> Iterator[Lines]:
    env = {
        **os.environ,
        "ASGI_DASH_COLLECT": str(sock),
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "asgi_dashboard", "collect", "--headless", "--json", "--otlp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = Lines(proc)
    try:
        lines.wait_for(lambda ev: bool(named(ev, "server-started")), 20)
        yield lines
    finally:
        stop(proc)


def test_attached_workers_requests_become_spans() -> None:
    with short_dir() as folder, OtlpReceiver() as receiver:
        sock = folder / "c.sock"
        with (
            collector_with_otlp(sock, receiver.endpoint) as lines,
            gunicorn(folder, sock) as (_gun, port),
        ):
            lines.wait_for(lambda ev: len(named(ev, "process-attached")) >= 2, 30)
            assert load(port, REQUESTS, "/sync/?ms=0&otlp=1") == [200] * REQUESTS
            lines.wait_for(
                lambda ev: (
                    sum(e.get("query") == "ms=0&otlp=1" for e in named(ev, "request")) == REQUESTS
                ),
                30,
            )
            ids = {e["id"] for e in named(lines.events(), "request") if e["query"] == "ms=0&otlp=1"}
            spans = receiver.wait_for(
                lambda got: ids <= {s.attributes.get("asgi_dash.request_id") for s in got}
            )
    servers = [s for s in spans if s.attributes.get("asgi_dash.request_id") in ids]
    assert len(servers) == REQUESTS  # exactly one server span per request
    assert {s.name for s in servers} == {"GET sync/"}
    assert {s.attributes["asgi_dash.worker"] for s in servers} <= {1, 2}
    assert len({s.attributes["asgi_dash.worker_pid"] for s in servers}) >= 1
    for root in servers:
        children = [s for s in spans if s.parent_span_id == root.span_id]
        assert {c.name for c in children} >= {"thread wait", "view demoapp.views.sync_view"}
        assert all(c.trace_id == root.trace_id for c in children)
