"""A tiny OTLP/HTTP receiver for the tests: ``POST /v1/traces`` decoded with opentelemetry-proto.

A ``ThreadingHTTPServer`` on 127.0.0.1 and a free port, in a thread of its own. Each request body
is parsed as an ``ExportTraceServiceRequest`` (protobuf, as ``OTLPSpanExporter`` sends it; gzip
if the exporter compresses) and every span is kept as a :class:`ReceivedSpan`, with its resource
and scope. :meth:`OtlpReceiver.wait_for` waits on a condition, with a deadline (no sleeps).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


@dataclass
class ReceivedSpan:
    """One span as decoded from the wire (ids as hex, as a backend shows them)."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    events: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""


class OtlpReceiver:
    """``with OtlpReceiver() as r:`` serves on ``r.endpoint`` (a base URL) until the block ends."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.posts = 0
        self.content_types: set[str] = set()
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.content_types.add(self.headers.get("Content-Type", ""))
                receiver.add(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        found: list[ReceivedSpan] = []
        for rs in request.resource_spans:
            resource = attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for s in ss.spans:
                    found.append(
                        ReceivedSpan(
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            kind=s.kind,
                            start_ns=s.start_time_unix_nano,
                            end_ns=s.end_time_unix_nano,
                            attributes=attributes(s.attributes),
                            status_code=s.status.code,
                            status_message=s.status.message,
                            events=[
                                (e.name, e.time_unix_nano, attributes(e.attributes))
                                for e in s.events
                            ],
                            resource=resource,
                            scope=ss.scope.name,
                        )
                    )
        with self._cond:
            self.posts += 1
            self.spans.extend(found)
            self._cond.notify_all()

    def wait_for(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float = 20.0
    ) -> list[ReceivedSpan]:
        """The spans received so far, once ``predicate`` holds for them (bounded)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.spans):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = sorted({s.name for s in self.spans})
                    raise TimeoutError(f"{len(self.spans)} spans after {timeout} s: {names}")
                self._cond.wait(remaining)
            return list(self.spans)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def children_of(spans: list[ReceivedSpan], parent: ReceivedSpan) -> list[ReceivedSpan]:
    return [s for s in spans if s.parent_span_id == parent.span_id]


def render_tree(spans: list[ReceivedSpan], root: ReceivedSpan, keys: tuple[str, ...] = ()) -> str:
    """The trace under ``root`` as indented lines: name, short ids, offset/duration, attributes
    (``keys`` only, when given)."""
    lines: list[str] = []

    def walk(span: ReceivedSpan, depth: int) -> None:
        attrs = {k: v for k, v in span.attributes.items() if not keys or k in keys}
        shown = " ".join(f"{k}={v!r}" for k, v in attrs.items())
        offset = (span.start_ns - root.start_ns) / 1e6
        took = (span.end_ns - span.start_ns) / 1e6
        lines.append(
            f"{'  ' * depth}{span.name}  [{span.span_id[:8]} <- {span.parent_span_id[:8] or '-'}]"
            f"  +{offset:.2f} ms {took:.2f} ms  {shown}".rstrip()
        )
        for child in sorted(children_of(spans, span), key=lambda s: s.start_ns):
            walk(child, depth + 1)

    lines.append(f"trace {root.trace_id[:16]}  service={root.resource.get('service.name')}")
    walk(root, 0)
    return "\n".join(lines)
