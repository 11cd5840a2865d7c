"""Events -> OpenTelemetry spans, through the SDK, with explicit wall-clock times.

* A :class:`~asgi_dashboard.events.RequestFinished` becomes one SERVER span (from ``ts`` for
  ``total_ns``) and its children, placed by :func:`.timeline.request_timeline`: ``thread wait``,
  ``view {view}`` (with the SQL statements it issued and the template it rendered inside it),
  ``template``, and one CLIENT span per SQL statement (the statements the event kept: the first
  200 of a request, instrument/records.py). A request carrying a W3C ``traceparent`` header
  continues the caller's trace; any other starts a trace of its own.
* A WebSocket connection is one SERVER span from ``WsOpened`` to ``WsClosed``
  (``duration_ns`` after the open), with a ``websocket.frame`` event per frame; spans of
  connections still open when their server generation stops end there. The SDK keeps at most
  128 events per span (``OTEL_SPAN_EVENT_COUNT_LIMIT``): a longer chat keeps its first frames.

A request is over when its event arrives, so its spans are built finished: SDK
``ReadableSpan`` objects with the provider's sampler (``OTEL_TRACES_SAMPLER`` is honoured, once
per trace), id generator and resource, handed to the ``BatchSpanProcessor``. Going through
``Tracer.start_span``/``end`` instead (a live span per part, its attribute cleaning, context
objects and locks) cost 480 us of CPU per request of 7 spans in a loop on this loaded 2-core
machine, about 70 us a span; building them finished costs a fraction of that (bench/otlp.py).
WebSocket spans stay open while frames arrive: those use the tracer.

Everything runs on the dashboard's event-loop thread; the processor only queues the spans (the
export is on the SDK's own thread).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event as SdkEvent
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .. import __version__
from ..events import (
    Event,
    RequestFinished,
    ServerStopped,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from . import attributes as at
from .timeline import Interval, request_bounds, request_timeline, wall_ns

#: WebSocket spans kept open at most; beyond it the oldest is ended (a leak guard).
MAX_OPEN_CONNECTIONS = 10_000
#: Characters of an exception message kept in a span's status description.
STATUS_DESCRIPTION_CHARS = 200

_PROPAGATOR = TraceContextTextMapPropagator()
SAMPLED = TraceFlags(TraceFlags.SAMPLED)
UNSET = Status(StatusCode.UNSET)
#: The instrumentation scope of every span (``otel.scope.name`` in a backend).
SCOPE = InstrumentationScope("asgi_dashboard.otlp", __version__)


@dataclass(slots=True)
class OpenConnection:
    span: trace.Span
    start_ns: int
    generation: int
    #: The server process it landed on (0: not known).
    pid: int = 0


class SpanWriter:
    """Turns events into spans (see the module docstring)."""

    def __init__(
        self,
        provider: TracerProvider,
        on_end: Callable[[ReadableSpan], None],
        server: tuple[str, int],
        keep_secrets: bool,
    ) -> None:
        #: WebSocket spans (open for a while, events added as frames come) use the tracer.
        self.tracer = provider.get_tracer(SCOPE.name, SCOPE.version)
        #: Request spans are built finished, with the provider's sampler, ids and resource,
        #: and handed to ``on_end`` (the batch processor's).
        self.sampler = provider.sampler
        self.ids = provider.id_generator
        self.resource = provider.resource
        self.scope = SCOPE
        self.on_end = on_end
        #: Where the dashboard serves: ``server.address``/``server.port`` without a Host header.
        self.server = server
        self.keep_secrets = keep_secrets
        self.connections: OrderedDict[str, OpenConnection] = OrderedDict()
        #: Event class -> what makes its span (a dict lookup per event: most are requests).
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            RequestFinished: self.request,
            WsFrame: self.frame,
            WsOpened: self.ws_opened,
            WsAccepted: self.ws_accepted,
            WsClosed: self.ws_closed,
            ServerStopped: self.generation_stopped,
        }

    def write(self, event: Event) -> None:
        """One event (any type: those without a span are ignored)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    # -- HTTP ------------------------------------------------------------------------------

    def request(self, event: RequestFinished) -> None:
        """The server span and its children, built finished (see the module docstring)."""
        start, end = request_bounds(event)
        name = at.server_span_name(event.method, event.route)
        attrs = at.request_attributes(event, self.server, self.keep_secrets)
        caller = self._caller_context(event)
        remote = trace.get_current_span(caller).get_span_context()
        parent = remote if remote.is_valid else None
        trace_id = parent.trace_id if parent else self.ids.generate_trace_id()
        sampling = self.sampler.should_sample(caller, trace_id, name, SpanKind.SERVER, attrs)
        if sampling.decision is not Decision.RECORD_AND_SAMPLE:
            return
        attrs.update(sampling.attributes)
        root = SpanContext(
            trace_id, self.ids.generate_span_id(), False, SAMPLED, sampling.trace_state
        )
        status = UNSET
        events: tuple[SdkEvent, ...] = ()
        if at.is_error(event):
            message = event.error.message if event.error else ""
            status = Status(StatusCode.ERROR, message[:STATUS_DESCRIPTION_CHARS])
            if event.error is not None:
                exc = at.exception_attributes(event.error, self.keep_secrets)
                events = (SdkEvent("exception", exc, end),)
        view = root
        for interval in request_timeline(event):
            context = SpanContext(
                trace_id, self.ids.generate_span_id(), False, SAMPLED, root.trace_state
            )
            child, kind, child_attrs = self._child(event, interval)
            self._finished(
                child,
                context,
                view if interval.parent == "view" else root,
                child_attrs,
                kind,
                interval.start_ns,
                interval.end_ns,
            )
            if interval.part == "view":
                view = context
        self._finished(name, root, parent, attrs, SpanKind.SERVER, start, end, status, events)

    def _finished(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attrs: at.Attrs,
        kind: SpanKind,
        start_ns: int,
        end_ns: int,
        status: Status = UNSET,
        events: tuple[SdkEvent, ...] = (),
    ) -> None:
        """Hand one finished span to the processor (which queues it for the export thread)."""
        self.on_end(
            ReadableSpan(
                name,
                context,
                parent,
                self.resource,
                attrs,
                events,
                kind=kind,
                status=status,
                start_time=start_ns,
                end_time=end_ns,
                instrumentation_scope=self.scope,
            )
        )

    def _child(self, event: RequestFinished, interval: Interval) -> tuple[str, SpanKind, at.Attrs]:
        """Name, kind and attributes of one child span."""
        part = interval.part
        if part == "sql":
            query = event.sql[interval.index]
            attrs = at.sql_attributes(query, self.keep_secrets)
            return at.sql_span_name(query.sql), SpanKind.CLIENT, attrs
        if part == "view":
            # The view's kind (sync/async) is on the server span, once.
            attrs = {"code.function.name": event.view} if event.view else {}
            return (f"view {event.view}" if event.view else "view"), SpanKind.INTERNAL, attrs
        if part == "template":
            return (
                "template",
                SpanKind.INTERNAL,
                {"asgi_dash.template.in_view": interval.index == 1},
            )
        return "thread wait", SpanKind.INTERNAL, {}

    @staticmethod
    def _caller_context(event: RequestFinished) -> Context:
        """The caller's trace when the request carried a ``traceparent`` header; else an empty
        context (a new trace: never the dashboard's own current context)."""
        traceparent = at.header(event.request_headers, "traceparent")
        if traceparent is None:
            return Context()
        carrier = {"traceparent": traceparent}
        state = at.header(event.request_headers, "tracestate")
        if state:
            carrier["tracestate"] = state
        return _PROPAGATOR.extract(carrier, context=Context())

    # -- WebSocket -------------------------------------------------------------------------

    def ws_opened(self, event: WsOpened) -> None:
        start = wall_ns(event.ts)
        span = self.tracer.start_span(
            "WebSocket",
            context=Context(),
            kind=SpanKind.SERVER,
            attributes=at.websocket_attributes(event, self.server, self.keep_secrets),
            start_time=start,
        )
        self.connections[event.id] = OpenConnection(span, start, event.generation, event.worker_pid)
        if len(self.connections) > MAX_OPEN_CONNECTIONS:
            _, oldest = self.connections.popitem(last=False)
            oldest.span.set_attribute("asgi_dash.ws.unfinished", "too many open connections")
            oldest.span.end(end_time=start)

    def ws_accepted(self, event: WsAccepted) -> None:
        conn = self.connections.get(event.id)
        if conn is None:
            return
        if event.consumer:
            conn.span.update_name(f"WebSocket {event.consumer}")
        conn.span.set_attributes(at.accepted_attributes(event))

    def frame(self, event: WsFrame) -> None:
        conn = self.connections.get(event.id)
        if conn is not None:
            attrs = at.frame_attributes(event, self.keep_secrets)
            conn.span.add_event("websocket.frame", attrs, timestamp=wall_ns(event.ts))

    def ws_closed(self, event: WsClosed) -> None:
        conn = self.connections.pop(event.id, None)
        if conn is None:
            return
        conn.span.set_attributes(at.closed_attributes(event))
        if event.by == "error":
            message = event.error.message if event.error else ""
            conn.span.set_status(Status(StatusCode.ERROR, message[:STATUS_DESCRIPTION_CHARS]))
        end = conn.start_ns + event.duration_ns if event.duration_ns else wall_ns(event.ts)
        conn.span.end(end_time=max(conn.start_ns, end))

    def generation_stopped(self, event: ServerStopped) -> None:
        """Connections of a stopped generation that never reported their close end now."""
        gone = [
            key
            for key, conn in self.connections.items()
            if conn.generation == event.generation and conn.pid in (0, event.pid)
        ]
        self.end_open(gone, "server stopped", wall_ns(event.ts))

    def end_open(
        self, ids: list[str] | None = None, why: str = "dashboard stopped", at_ns: int | None = None
    ) -> None:
        """End the spans of open connections (all of them by default)."""
        for key in list(self.connections) if ids is None else ids:
            conn = self.connections.pop(key)
            conn.span.set_attribute("asgi_dash.ws.unfinished", why)
            conn.span.end(end_time=max(conn.start_ns, at_ns) if at_ns else None)


__all__ = ["MAX_OPEN_CONNECTIONS", "OpenConnection", "SpanWriter"]
