"""Events -> spans (asgi_dashboard/otlp): the real SDK, spans kept by its in-memory exporter."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from asgi_dashboard.events import (
    RequestFinished,
    ServerStopped,
    SqlQuery,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from asgi_dashboard.events.base import ExceptionInfo, FrameInfo
from asgi_dashboard.otlp import traces_endpoint
from asgi_dashboard.otlp.exporter import OtlpExporter, WarningRelay

TS = 1_800_000_000.5
MS = 1_000_000
SOURCE = FrameInfo("/p/shop/views.py", 42, "book_list")


def request(**fields: object) -> RequestFinished:
    base: dict[str, object] = {
        "id": "1-7",
        "method": "GET",
        "path": "/books/",
        "query": "page=2",
        "status": 200,
        "ts": TS,
        "route": "books/",
        "view": "shop.views.book_list",
        "kind": "sync",
        "generation": 1,
        "total_ns": 12 * MS,
        "thread_wait_ns": MS,
        "view_ns": 8 * MS,
        "sql": tuple(
            SqlQuery(
                'SELECT "a" FROM "shop_author" WHERE id = %s',
                MS,
                params=("'s3cret'",),
                source=SOURCE,
            )
            for _ in range(3)
        ),
        "sql_count": 3,
        "client": "127.0.0.1:5555",
        "request_headers": (
            ("host", "localhost:8001"),
            ("user-agent", "curl/8"),
            ("cookie", "sessionid=abc"),
            ("authorization", "Bearer t0ken"),
        ),
        "request_body": "password=hunter2",
        "response_body": "<html>secret page</html>",
    }
    return RequestFinished(**{**base, **fields})  # type: ignore[arg-type]


Memory = tuple[OtlpExporter, InMemorySpanExporter, list[str]]


@pytest.fixture
def memory() -> Iterator[Memory]:
    spans = InMemorySpanExporter()
    warnings: list[str] = []
    exporter = OtlpExporter(
        service_name="shop", server=("127.0.0.1", 8000), warn=warnings.append, span_exporter=spans
    )
    yield exporter, spans, warnings
    exporter.close()


def finished(exporter: OtlpExporter, spans: InMemorySpanExporter) -> list[ReadableSpan]:
    assert exporter.close()
    return list(spans.get_finished_spans())


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def everything(spans: list[ReadableSpan]) -> str:
    """Every name, attribute and event of every span, as one string (secrets must not be in it)."""
    parts = []
    for s in spans:
        parts += [s.name, repr(dict(s.attributes or {}))]
        parts += [repr(dict(e.attributes or {})) for e in s.events]
    return " ".join(parts)


def test_one_server_span_with_children_in_one_trace(memory: Memory) -> None:
    exporter, memory_spans, _ = memory
    exporter([request()])
    spans = finished(exporter, memory_spans)
    (root,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert root.name == "GET books/" and root.parent is None
    attrs = dict(root.attributes or {})
    assert attrs["http.request.method"] == "GET" and attrs["http.route"] == "books/"
    assert attrs["url.path"] == "/books/" and attrs["url.query"] == "page=2"
    assert attrs["http.response.status_code"] == 200
    assert (attrs["server.address"], attrs["server.port"]) == ("localhost", 8001)
    assert attrs["network.protocol.name"] == "http" and attrs["client.address"] == "127.0.0.1"
    assert attrs["asgi_dash.kind"] == "sync" and attrs["asgi_dash.generation"] == 1
    assert attrs["asgi_dash.sql.count"] == 3
    assert root.status.status_code is StatusCode.UNSET
    assert root.start_time == int(TS * 1e9) and root.end_time == root.start_time + 12 * MS
    assert root.resource.attributes["service.name"] == "shop"

    ctx = root.context
    assert ctx is not None
    (view,) = by_name(spans, "view shop.views.book_list")
    (wait,) = by_name(spans, "thread wait")
    sql = by_name(spans, "SELECT shop_author")
    assert len(sql) == 3
    for child in (view, wait, *sql):
        assert child.context is not None and child.context.trace_id == ctx.trace_id
        assert child.start_time is not None and child.end_time is not None
        assert root.start_time <= child.start_time <= child.end_time <= root.end_time
    assert view.parent is not None and view.parent.span_id == ctx.span_id
    assert wait.parent is not None and wait.parent.span_id == ctx.span_id
    assert view.context is not None
    assert all(s.parent is not None and s.parent.span_id == view.context.span_id for s in sql)
    assert all(s.kind is SpanKind.CLIENT for s in sql)
    q = dict(sql[0].attributes or {})
    assert str(q["db.query.text"]).startswith("SELECT") and q["db.operation.name"] == "SELECT"
    assert (q["code.file.path"], q["code.line.number"]) == ("/p/shop/views.py", 42)
    assert "db.system.name" not in q  # the events do not say which database it was


def test_no_secrets_unless_keep_secrets(memory: Memory) -> None:
    exporter, memory_spans, _ = memory
    error = ExceptionInfo("ValueError", "bad", "Traceback ... password=hunter2")
    exporter([request(query="sig=abc&page=2", error=error, status=500)])
    text = everything(finished(exporter, memory_spans))
    for secret in ("s3cret", "abc", "t0ken", "hunter2", "secret page"):
        assert secret not in text
    assert "sig=REDACTED&page=2" in text

    spans = InMemorySpanExporter()
    keeping = OtlpExporter(
        service_name="shop", server=("h", 1), warn=print, keep_secrets=True, span_exporter=spans
    )
    keeping([request(error=error, status=500)])
    kept = everything(finished(keeping, spans))
    assert "s3cret" in kept and "hunter2" in kept  # parameters, traceback
    assert "t0ken" not in kept and "secret page" not in kept  # headers and bodies: never


def test_errors_5xx_and_exceptions_are_error_status(memory: Memory) -> None:
    exporter, memory_spans, _ = memory
    boom = ExceptionInfo("ZeroDivisionError", "division by zero", "tb")
    exporter(
        [
            request(id="a", status=500, route="a/", error=boom),
            request(id="b", status=503, route="b/"),
            request(id="c", status=404, route=None, view=None, view_ns=None, thread_wait_ns=None),
        ]
    )
    spans = finished(exporter, memory_spans)
    a, b, c = (by_name(spans, n)[0] for n in ("GET a/", "GET b/", "GET"))
    assert a.status.status_code is StatusCode.ERROR and a.status.description == "division by zero"
    assert (a.attributes or {})["error.type"] == "ZeroDivisionError"
    assert [e.name for e in a.events] == ["exception"]
    assert (a.events[0].attributes or {})["exception.type"] == "ZeroDivisionError"
    assert b.status.status_code is StatusCode.ERROR and (b.attributes or {})["error.type"] == "503"
    assert c.status.status_code is StatusCode.UNSET and "http.route" not in (c.attributes or {})


def test_traceparent_continues_the_callers_trace(memory: Memory) -> None:
    exporter, memory_spans, _ = memory
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = (("traceparent", f"00-{trace_id}-{parent_id}-01"),)
    exporter([request(request_headers=headers)])
    (root,) = by_name(finished(exporter, memory_spans), "GET books/")
    assert root.context is not None and root.parent is not None
    assert f"{root.context.trace_id:032x}" == trace_id
    assert f"{root.parent.span_id:016x}" == parent_id and root.parent.is_remote


def test_websocket_connection_is_one_span_with_frame_events(memory: Memory) -> None:
    exporter, memory_spans, _ = memory
    exporter(
        [
            WsOpened(id="w1", path="/ws/chat/lobby/", ts=TS, generation=2, worker_pid=77),
            WsAccepted(id="w1", consumer="chat.consumers.ChatConsumer", ts=TS + 0.001),
            WsFrame(id="w1", direction="in", size=17, preview='{"message":"hi"}', ts=TS + 0.002),
            WsFrame(id="w1", direction="out", size=30, preview="hi all", ts=TS + 0.003),
            WsClosed(
                id="w1", code=1000, duration_ns=5 * MS, frames_in=1, frames_out=1, ts=TS + 0.005
            ),
            WsOpened(id="w2", path="/ws/echo/", ts=TS, generation=2, worker_pid=77),
            ServerStopped(pid=77, generation=2, ts=TS + 1),
        ]
    )
    spans = finished(exporter, memory_spans)
    (chat,) = by_name(spans, "WebSocket chat.consumers.ChatConsumer")
    assert chat.kind is SpanKind.SERVER and chat.parent is None
    assert chat.start_time == int(TS * 1e9) and chat.end_time == chat.start_time + 5 * MS
    assert [(e.name, (e.attributes or {})["asgi_dash.ws.direction"]) for e in chat.events] == [
        ("websocket.frame", "in"),
        ("websocket.frame", "out"),
    ]
    assert (chat.events[0].attributes or {})["asgi_dash.ws.size"] == 17
    assert "hi" not in everything([chat]).replace("chat", "")  # previews: only with keep_secrets
    assert (chat.attributes or {})["asgi_dash.ws.close_code"] == 1000
    (echo,) = by_name(spans, "WebSocket")
    assert (echo.attributes or {})["asgi_dash.ws.unfinished"] == "server stopped"


def test_sampler_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    spans = InMemorySpanExporter()
    exporter = OtlpExporter(service_name="s", server=("h", 1), warn=print, span_exporter=spans)
    exporter([request()])
    assert finished(exporter, spans) == []


def test_sdk_disabled_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    spans = InMemorySpanExporter()
    exporter = OtlpExporter(service_name="s", server=("h", 1), warn=print, span_exporter=spans)
    exporter([request(), WsOpened(id="w", path="/ws/"), WsClosed(id="w")])
    exporter.close()
    assert list(spans.get_finished_spans()) == []


def test_service_name_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    spans = InMemorySpanExporter()
    exporter = OtlpExporter(service_name="shop", server=("h", 1), warn=print, span_exporter=spans)
    exporter([request()])
    (root, *_) = [s for s in finished(exporter, spans) if s.kind is SpanKind.SERVER]
    assert root.resource.attributes["service.name"] == "from-env"


def test_warnings_are_rate_limited() -> None:
    said: list[str] = []
    relay = WarningRelay(said.append, "http://x/v1/traces", interval_s=3600)
    record = logging.LogRecord("opentelemetry.x", logging.ERROR, "f", 1, "Failed %s", ("a",), None)
    for _ in range(50):
        relay.emit(record)
    assert len(said) == 1 and "Failed a" in said[0] and "http://x/v1/traces" in said[0]
    assert relay.suppressed == 49


def test_unreachable_collector_never_blocks_and_warns_once(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A real OTLPSpanExporter aimed at a closed port: the calls stay fast, close() is bounded,
    the failure is one warning through ``warn`` (nothing on stderr: it would print over the TUI)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    said: list[str] = []
    got_one = threading.Event()

    def warn(text: str) -> None:
        said.append(text)
        got_one.set()

    exporter = OtlpExporter(
        service_name="s",
        server=("h", 1),
        warn=warn,
        endpoint=traces_endpoint(f"http://127.0.0.1:{port}"),
    )
    begin = time.monotonic()
    for i in range(200):  # 1,200 spans: more than a batch, the export starts at once
        exporter([request(id=str(i))])
    assert time.monotonic() - begin < 5  # building spans only: no network on this thread
    assert got_one.wait(10)
    begin = time.monotonic()
    assert not exporter.close(timeout_s=1.0)  # the collector never took them
    assert time.monotonic() - begin < 3
    assert len(said) == 1 and said[0].startswith(f"OTLP export to http://127.0.0.1:{port}/v1")
    assert "Connection refused" in said[0] and len(said[0]) < 200  # not urllib3's whole story
    assert capfd.readouterr().err == ""


def test_missing_sdk_is_one_clear_line_and_exit_2() -> None:
    """The real CLI, in an interpreter where the SDK cannot be imported."""
    code = (
        "import sys; sys.modules['opentelemetry.sdk'] = None\n"
        "from asgi_dashboard.cli import main\n"
        "main(['--otlp', '--headless'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'asgi-dash[otlp]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_otlp_url_is_a_base_endpoint() -> None:
    assert traces_endpoint("http://localhost:4318") == "http://localhost:4318/v1/traces"
    assert traces_endpoint("http://c:4318/") == "http://c:4318/v1/traces"
    assert traces_endpoint("http://c:4318/v1/traces") == "http://c:4318/v1/traces"
