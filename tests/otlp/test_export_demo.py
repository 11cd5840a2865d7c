"""``asgi-dash --headless --json --otlp`` on the demo, against a real OTLP/HTTP receiver.

The dashboard is a real process (child mode: the server is its own process too), pointed at the
receiver with the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``; requests and a WebSocket go through
real clients; what the receiver decodes from the protobuf payloads is compared with the events
the dashboard printed for the same requests.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from tests.conftest import DEMO_DIR
from tests.otlp.receiver import OtlpReceiver, ReceivedSpan, children_of, render_tree
from tests.runtime.conftest import HeadlessRun, launch
from tests.runtime.test_headless_server import ORIGIN

pytestmark = pytest.mark.slow

#: Attributes shown in the printed trace (the closing note's tree).
SHOWN = (
    "http.request.method",
    "http.route",
    "url.path",
    "http.response.status_code",
    "server.address",
    "server.port",
    "asgi_dash.kind",
    "asgi_dash.sql.count",
    "db.operation.name",
    "code.function.name",
    "code.line.number",
)


async def start_demo(tmp_path: Path, endpoint: str, *extra: str) -> tuple[HeadlessRun, str]:
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        "--otlp",
        *extra,
        env={
            "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"),
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_SERVICE_NAME": "demo-under-test",
        },
    )
    started = await run.wait_event("server-started", timeout=30)
    return run, str(started["url"])


def server_span(spans: list[ReceivedSpan], request_id: str) -> ReceivedSpan:
    (span,) = [s for s in spans if s.attributes.get("asgi_dash.request_id") == request_id]
    return span


def check_n_plus_one_trace(spans: list[ReceivedSpan], n1: dict[str, Any], url: str) -> None:
    """The N+1 page's trace: server span attributes, the view, one span per statement (with the
    statement's own duration), every child within its parent. Printed (the closing note's tree)."""
    root = server_span(spans, n1["id"])
    print("\n" + render_tree(spans, root, SHOWN))
    assert root.name == "GET orm/n-plus-one/" and root.parent_span_id == ""
    assert root.resource["service.name"] == "demo-under-test"
    assert root.attributes["http.request.method"] == "GET"
    assert root.attributes["http.route"] == "orm/n-plus-one/"
    assert root.attributes["url.path"] == "/orm/n-plus-one/"
    assert root.attributes["http.response.status_code"] == 200
    assert root.attributes["server.address"] == "127.0.0.1"
    assert root.attributes["server.port"] == int(url.rsplit(":", 1)[1])
    assert root.attributes["asgi_dash.kind"] == n1["kind"]
    assert root.end_ns - root.start_ns == n1["total_ns"]
    tree = [s for s in spans if s.trace_id == root.trace_id]
    (view,) = [s for s in tree if s.name.startswith("view ")]
    sql = [s for s in tree if "db.query.text" in s.attributes]
    assert view.parent_span_id == root.span_id
    assert len(sql) == n1["sql_count"] == len(n1["sql"]) > 5  # the N+1 page
    assert all(s.kind == Span.SPAN_KIND_CLIENT for s in sql)
    assert [s.end_ns - s.start_ns for s in sorted(sql, key=lambda s: s.start_ns)] == [
        q["duration_ns"] for q in n1["sql"]
    ]
    for span in tree:
        parent = next((p for p in tree if p.span_id == span.parent_span_id), None)
        if parent is not None:  # every child nests within its parent
            assert parent.start_ns <= span.start_ns <= span.end_ns <= parent.end_ns
    assert len(tree) == 1 + len(children_of(tree, root)) + len(children_of(tree, view))


async def test_requests_and_a_websocket_become_traces(tmp_path: Path) -> None:
    with OtlpReceiver() as receiver:
        run, url = await start_demo(tmp_path, receiver.endpoint)
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                paths = ["/orm/n-plus-one/", "/template/", "/error/", "/async/?ms=5"]
                statuses = [(await client.get(p)).status_code for p in paths]
            assert statuses == [200, 200, 500, 200]
            ws_url = url.replace("http://", "ws://") + "/ws/echo/"
            async with websockets.connect(ws_url, origin=ORIGIN, open_timeout=10) as ws:
                await ws.send("hello")
                assert await asyncio.wait_for(ws.recv(), 10) == "You said: hello"
            events = {}
            for path in ("/orm/n-plus-one/", "/template/", "/error/", "/async/"):
                events[path] = await run.wait_event("request", path=path)
            closed = await run.wait_event("ws-closed")
            ids = {e["id"] for e in events.values()}
            spans = await asyncio.to_thread(
                receiver.wait_for,
                lambda got: (
                    ids <= {s.attributes.get("asgi_dash.request_id") for s in got}
                    and any(
                        s.attributes.get("asgi_dash.connection_id") == closed["id"] for s in got
                    )
                ),
            )
        finally:
            assert await run.stop() == 0

    assert receiver.content_types == {"application/x-protobuf"}
    # One server span per request: exactly one per request id, nothing for other ids.
    servers = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER and "http.route" in s.attributes]
    assert sorted(s.attributes["asgi_dash.request_id"] for s in servers) == sorted(ids)

    check_n_plus_one_trace(spans, events["/orm/n-plus-one/"], url)

    template = server_span(spans, events["/template/"]["id"])
    names = {s.name for s in spans if s.parent_span_id == template.span_id}
    assert "template" in names and any(n.startswith("view ") for n in names)

    error = server_span(spans, events["/error/"]["id"])
    assert error.status_code == Status.STATUS_CODE_ERROR
    assert error.attributes["error.type"] == "RuntimeError"
    assert [e[0] for e in error.events] == ["exception"]

    (ws_span,) = [s for s in spans if s.attributes.get("asgi_dash.connection_id") == closed["id"]]
    assert ws_span.name.startswith("WebSocket demoapp.consumers.")
    frames = [(name, attrs["asgi_dash.ws.direction"]) for name, _, attrs in ws_span.events]
    assert frames == [("websocket.frame", "in"), ("websocket.frame", "out")]
    assert ws_span.end_ns - ws_span.start_ns == closed["duration_ns"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_collector_down_the_dashboard_keeps_working(tmp_path: Path) -> None:
    run, url = await start_demo(tmp_path, f"http://127.0.0.1:{closed_port()}")
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            for _ in range(3):
                statuses = [(await client.get("/sync/?ms=1")).status_code for _ in range(20)]
                assert statuses == [200] * 20
        warning = await run.wait_event("check", timeout=30, check_id="asgi_dash.otlp")
        assert (
            warning["level"] == "warning"
            and "OTLP export to http://127.0.0.1:" in warning["message"]
        )
        # Events still flow after the failure (the 60th request is printed like the first).
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            assert (await client.get("/sync/?ms=1&last=1")).status_code == 200
        await run.wait_event("request", path="/sync/", query="ms=1&last=1")
    finally:
        begin = time.monotonic()
        assert await run.stop() == 0
        # The flush at exit is bounded (2 s) even though the collector never answers.
        assert time.monotonic() - begin < 10
    warnings = [e for e in run.events if e.get("check_id") == "asgi_dash.otlp"]
    assert len(warnings) == 1  # rate-limited: one a minute, not one per failed batch
    assert "Traceback" not in run.stderr.decode(errors="replace")


async def test_in_process_runtime_exports_too(tmp_path: Path) -> None:
    """``--in-process`` reports through the same hook (its sink calls the runtime's callback)."""
    with OtlpReceiver() as receiver:
        run, url = await start_demo(tmp_path, receiver.endpoint, "--in-process")
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                assert (await client.get("/orm/sync/")).status_code == 200
            event = await run.wait_event("request", path="/orm/sync/")
            spans = await asyncio.to_thread(
                receiver.wait_for,
                lambda got: any(
                    s.attributes.get("asgi_dash.request_id") == event["id"] for s in got
                ),
            )
        finally:
            assert await run.stop() == 0
    root = server_span(spans, event["id"])
    sql = [s for s in spans if s.trace_id == root.trace_id and "db.query.text" in s.attributes]
    assert root.name == "GET orm/sync/" and len(sql) == event["sql_count"] > 0
