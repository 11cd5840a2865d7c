"""The ASGI tap: wraps the project's application and turns traffic into events.

It sits outside everything the project exports (Django's handler, a Channels
``ProtocolTypeRouter``, the static-files handler), so ``total_ns`` is the whole time the
application took, from the ASGI call until the last response body chunk was handed to the server
(or the app returned). The hooks in :mod:`.hooks` fill in the view, SQL and template details on
the :class:`~.records.RequestRecord` this tap puts in the context.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from ..events import CancelReason, RequestFinished
from . import identity, layer
from .errors import exception_info
from .hops import hop_events
from .nplus1 import find as find_n_plus_one
from .previews import (
    BODY_PREVIEW,
    ASGIApp,
    Headers,
    Message,
    Receive,
    Scope,
    Send,
    client_address,
    content_type,
    kept_headers,
    preview,
)
from .records import RequestRecord, current
from .refusals import settle as settle_refused
from .sink import EventSink
from .users import username_of
from .wstap import WebSocketTap

#: The message Uvicorn cancels in-flight requests with when a stopping server's graceful timeout
#: runs out (``uvicorn/server.py`` ``Server.shutdown``; runtime/server.py uses the same one).
SHUTDOWN_CANCEL = "timeout graceful shutdown exceeded"
#: Scope key the server's HTTP protocol sets (runtime/server.py ``_http_protocol``) when Uvicorn
#: answered the request itself (400 for a body that is invalid HTTP) and the app saw a disconnect.
SERVER_ANSWERED = "asgi_dashboard.server_answered"
#: ``cancelled`` of a request the app never answered, by why (status 0 only with "client-gone").
CUT_INVALID_HTTP: CancelReason = "invalid-http"  # status is what Uvicorn sent (400): invalid HTTP
CUT_CLIENT_GONE: CancelReason = "client-gone"  # the client left before a response: nothing sent
CUT_NO_RESPONSE: CancelReason = "no-response"  # the app returned without one: Uvicorn answers 500
#: What a client whose request was cut by a reload gets instead of Uvicorn's 500.
RELOAD_CUT_BODY = b"The server restarted (a reload) while this request was running: retry it.\n"


def cut_by_shutdown(exc: BaseException) -> bool:
    """The request task was cancelled by the server's shutdown (a reload), not by the app.

    The message may be on an earlier exception of the chain: Django's handler leaves
    ``async with ThreadSensitiveContext()`` with a new, bare CancelledError whose context is
    Uvicorn's (``django/core/handlers/asgi.py`` ``ASGIHandler.__call__``).
    """
    seen: BaseException | None = exc
    for _ in range(8):  # a short, bounded walk down __context__
        if not isinstance(seen, asyncio.CancelledError):
            return False
        if any(SHUTDOWN_CANCEL in str(arg) for arg in seen.args):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reload_cut_response() -> tuple[Message, Message]:
    """The 503 a request cut by a reload gets (it may be retried), instead of Uvicorn's 500."""
    return (
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(RELOAD_CUT_BODY)).encode()),
                (b"retry-after", b"1"),
                (b"connection", b"close"),
            ],
        },
        {"type": "http.response.body", "body": RELOAD_CUT_BODY},
    )


class HttpExchange:
    """What the tap sees of one HTTP request's messages: bounded body previews, the status,
    the response's size and headers, and whether the client left."""

    __slots__ = (
        "_receive",
        "_send",
        "cancelled",
        "disconnected",
        "req_body",
        "req_truncated",
        "resp_body",
        "resp_headers",
        "resp_headers_dropped",
        "resp_truncated",
        "size",
        "status",
    )

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.req_body = bytearray()
        self.req_truncated = False
        self.resp_body = bytearray()
        self.resp_truncated = False
        self.status = 0
        self.size = 0
        self.resp_headers: Headers = ()
        self.resp_headers_dropped = 0
        self.disconnected = False
        self.cancelled: CancelReason | None = None

    async def receive(self) -> Message:
        """The server's ``receive``, seen by the tap: request body preview, disconnects."""
        message = await self._receive()
        mtype = message["type"]
        if mtype == "http.disconnect":
            self.disconnected = True
        elif mtype == "http.request":
            chunk = message.get("body", b"")
            room = BODY_PREVIEW - len(self.req_body)
            if chunk and room > 0:
                self.req_body.extend(chunk[:room])
            if len(chunk) > room:
                self.req_truncated = True
        return message

    async def send(self, message: Message) -> None:
        """The server's ``send``, seen by the tap: status, headers, size, body preview."""
        mtype = message["type"]
        if mtype == "http.response.start":
            self.status = message["status"]
            self.resp_headers, self.resp_headers_dropped = kept_headers(message.get("headers", ()))
        elif mtype == "http.response.body":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            room = BODY_PREVIEW - len(self.resp_body)
            if chunk and room > 0:
                self.resp_body.extend(chunk[:room])
            if len(chunk) > room:
                self.resp_truncated = True
        await self._send(message)

    def settle(self, scope: Scope, rec: RequestRecord) -> None:
        """Once the app has returned: the status and ``cancelled`` the log shows."""
        if not self.status and self.cancelled is None and rec.error is None:
            # The app returned without a response. The figure logged is what the client got.
            if scope.get(SERVER_ANSWERED):
                self.status, self.cancelled = scope[SERVER_ANSWERED], CUT_INVALID_HTTP
            elif self.disconnected:
                self.cancelled = CUT_CLIENT_GONE
            else:
                # uvicorn/protocols/http/*_impl.py run_asgi: "ASGI callable returned without
                # starting response" -> 500, unless the client is gone by then.
                self.status, self.cancelled = 500, CUT_NO_RESPONSE
        # Django's handler saw it and answered, but no view ran: a middleware answered (or a
        # 404). Not for a request cut short (cancelled by a reload, or the app raised).
        answered = self.status and self.cancelled is None and rec.error is None
        if rec.kind is None and rec.request is not None and answered:
            settle_refused(rec)


class InstrumentedApp:
    """ASGI middleware that records every HTTP request and WebSocket connection."""

    def __init__(
        self,
        app: ASGIApp,
        sink: EventSink,
        *,
        generation: int = 0,
        static_prefix: str | None = None,
        project_dir: str | None = None,
    ) -> None:
        self.app = app
        self.sink = sink
        self.generation = generation
        self.static_prefix = static_prefix
        self.project_dir = project_dir
        self._ids = itertools.count(1)
        #: Requests/connections in flight on the loop: id -> "GET /path" (for loop diagnostics).
        self.in_flight: dict[str, str] = {}
        # Channel-layer operations (instrument/layer.py) are reported through the same sink.
        layer.set_sink(sink.emit)

    def _new_id(self) -> str:
        # "{generation}-{n}", or "{generation}.{worker}-{n}" with several workers (identity.py):
        # read per call, since a worker's identity is set after the fork that made it.
        return f"{identity.id_prefix(self.generation)}-{next(self._ids)}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ts = time.time()
        start = time.perf_counter_ns()
        method = scope.get("method", "GET")
        rec = RequestRecord(start_ns=start, method=method)
        request_id = rec.request_id = self._new_id()
        self.in_flight[request_id] = f"{method} {scope.get('path', '')}"
        ex = HttpExchange(receive, send)
        token = current.set(rec)
        try:
            await self.app(scope, ex.receive, ex.send)
        except BaseException as exc:
            if not cut_by_shutdown(exc):
                if rec.error is None:
                    rec.error = exception_info(exc, self.project_dir)
                if not ex.status:
                    ex.status = (
                        500  # the server answers 500 for an app that raised before responding
                    )
                raise
            # A reload's graceful timeout ran out: not the view's error. The client gets a 503
            # it may retry instead of Uvicorn's 500, and the log says what happened.
            ex.cancelled, rec.error = "reload", None
            if ex.status:
                raise  # the response had started: nothing else can be sent on it
            for message in _reload_cut_response():
                await ex.send(message)
        finally:
            current.reset(token)
            total = time.perf_counter_ns() - start
            ex.settle(scope, rec)
            del self.in_flight[request_id]
            self.sink.emit(self._finished(scope, rec, ex, ts, request_id, total))

    def _finished(
        self,
        scope: Scope,
        rec: RequestRecord,
        ex: HttpExchange,
        ts: float,
        request_id: str,
        total_ns: int,
    ) -> RequestFinished:
        """The event of a request that ended (answered, or cut short: see ``cancelled``)."""
        path = scope.get("path", "")
        req_headers, req_headers_dropped = kept_headers(scope.get("headers", ()))
        req_text, req_b64 = preview(bytes(ex.req_body), content_type(req_headers))
        resp_text, resp_b64 = preview(bytes(ex.resp_body), content_type(ex.resp_headers))
        return RequestFinished(
            ts=ts,
            id=request_id,
            generation=self.generation,
            worker=identity.worker_index(),
            worker_pid=identity.worker_pid(),
            method=rec.method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            status=ex.status,
            client=client_address(scope),
            static=bool(self.static_prefix and path.startswith(self.static_prefix)),
            route=rec.route,
            url_name=rec.url_name,
            view=rec.view,
            kind=rec.kind,
            answered_by=rec.answered_by,
            response_size=ex.size,
            total_ns=total_ns,
            view_ns=rec.view_ns,
            thread_wait_ns=rec.thread_wait_ns,
            template_ns=rec.template_ns or None,
            template_in_view_ns=rec.template_in_view_ns,
            sql_count=rec.sql_count,
            sql_ns=rec.sql_ns,
            sql=tuple(rec.sql),
            n_plus_one=find_n_plus_one(rec.sql),
            sync_hops=rec.sync_hops,
            hops=hop_events(rec) if rec.hops else (),
            error=rec.error,
            request_headers=req_headers,
            request_headers_dropped=req_headers_dropped,
            response_headers=ex.resp_headers,
            response_headers_dropped=ex.resp_headers_dropped,
            request_body=req_text,
            request_body_truncated=ex.req_truncated,
            request_body_b64=req_b64,
            response_body=resp_text,
            response_body_truncated=ex.resp_truncated,
            response_body_b64=resp_b64,
            cancelled=ex.cancelled,
            user=username_of(rec.request),
        )

    # -- WebSocket ----------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        conn_id = self._new_id()
        self.in_flight[conn_id] = f"WS {scope.get('path', '')}"
        tap = WebSocketTap(scope, conn_id, self.generation, self.sink)
        try:
            await tap.run(self.app, receive, send, self.project_dir)
        finally:
            self.in_flight.pop(conn_id, None)
