"""Span names and attributes, following OpenTelemetry's semantic conventions.

HTTP server spans (https://opentelemetry.io/docs/specs/semconv/http/http-spans/): name
``"{method} {route}"`` (``"{method}"`` without a route), ``http.request.method``,
``http.route``, ``url.path``, ``url.query``, ``url.scheme``, ``http.response.status_code``,
``server.address``/``server.port`` (from the ``Host`` header, else where the dashboard serves),
``client.address``, ``network.protocol.name``, ``user_agent.original``, ``error.type`` (not
the opt-in ones: each attribute costs the SDK's encoder ~3 us, a span ~20 us, under load).
Database spans (https://opentelemetry.io/docs/specs/semconv/database/): name
``"{db.operation.name} {table}"``, ``db.query.text`` (the statement with its placeholders: never
the values), ``db.operation.name``; ``db.system.name`` is left out: the events do not say which
database it was. ``code.function.name``/``code.file.path``/``code.line.number`` name the view
and the project line that issued a statement. asgi-dash's own facts are under ``asgi_dash.*``.

Nothing secret is exported unless ``keep_secrets``: no bodies, no headers but ``User-Agent``, no
SQL parameters (``db.query.parameter.<i>`` only with it), no frame previews.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from ..events import RequestFinished, SqlQuery, WsAccepted, WsClosed, WsFrame, WsOpened
from ..events.base import ExceptionInfo, FrameInfo, Header

#: OpenTelemetry attribute values: what these functions return.
AttrValue = str | bool | int | float
Attrs = dict[str, AttrValue]

#: Statement keyword, and the table the statement names first (FROM / INTO / UPDATE / TABLE).
_OPERATION = re.compile(r"\s*(\w+)")
_TABLE = re.compile(r"""\b(?:FROM|INTO|UPDATE|TABLE|JOIN)\s+["`\[]?([\w.]+)["`\]]?""", re.I)


def server_span_name(method: str, route: str | None) -> str:
    """``"{method} {route}"`` per the HTTP semantic conventions (low cardinality)."""
    return f"{method} {route}" if route else method


def split_host(host: str) -> tuple[str, int | None]:
    """``Host`` header value -> (address, port); IPv6 brackets removed."""
    if host.startswith("["):
        address, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        address, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return address, int(port) if port.isdigit() else None


def header(headers: Iterable[Header], name: str) -> str | None:
    """The first value of a header (``name`` lower case)."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


#: Query parameters whose values the URL conventions ask to scrub by default.
SENSITIVE_QUERY_KEYS = frozenset({"AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"})


def scrub_query(query: str) -> str:
    """``url.query`` with the values of :data:`SENSITIVE_QUERY_KEYS` as ``REDACTED`` (the
    semantic conventions' default list; the rest of the query is kept, as the request log does)."""
    if not any(key in query for key in SENSITIVE_QUERY_KEYS):
        return query
    parts = []
    for part in query.split("&"):
        key, eq, _ = part.partition("=")
        parts.append(f"{key}=REDACTED" if eq and key in SENSITIVE_QUERY_KEYS else part)
    return "&".join(parts)


def connection_attributes(
    path: str,
    query: str,
    client: str | None,
    headers: tuple[Header, ...],
    server: tuple[str, int],
    keep_secrets: bool = False,
) -> Attrs:
    """What a request and a WebSocket handshake share: URL, server, client, user agent."""
    attrs: Attrs = {"url.path": path, "url.scheme": "http", "network.protocol.name": "http"}
    if query:
        attrs["url.query"] = query if keep_secrets else scrub_query(query)
    host = header(headers, "host")
    address, port = split_host(host) if host else (server[0], server[1])
    attrs["server.address"] = address
    attrs["server.port"] = port if port is not None else server[1]
    if client:
        attrs["client.address"] = split_host(client)[0]
    agent = header(headers, "user-agent")
    if agent:
        attrs["user_agent.original"] = agent
    return attrs


def request_attributes(
    event: RequestFinished, server: tuple[str, int], keep_secrets: bool = False
) -> Attrs:
    """The server span's attributes."""
    attrs = connection_attributes(
        event.path, event.query, event.client, event.request_headers, server, keep_secrets
    )
    attrs["http.request.method"] = event.method
    if event.route:
        attrs["http.route"] = event.route
    if event.status:
        attrs["http.response.status_code"] = event.status
    if is_error(event):
        attrs["error.type"] = event.error.type if event.error else str(event.status)
    attrs.update(_asgi_dash_request(event))
    return attrs


def _asgi_dash_request(event: RequestFinished) -> Attrs:
    """asgi-dash's own facts, kept few: every attribute is paid for in the SDK's encoder (the
    server span's attributes are most of a small request's export cost, bench figure 9)."""
    attrs: Attrs = {
        "asgi_dash.request_id": event.id,
        "asgi_dash.generation": event.generation,
        "asgi_dash.sql.count": event.sql_count,
    }
    if event.worker:  # with --workers N (0: the one server process)
        attrs["asgi_dash.worker"] = event.worker
        attrs["asgi_dash.worker_pid"] = event.worker_pid
    if event.kind:
        attrs["asgi_dash.kind"] = event.kind
    if event.answered_by:
        attrs["asgi_dash.answered_by"] = event.answered_by
    if event.cancelled:
        attrs["asgi_dash.cancelled"] = event.cancelled
    if event.sql_count > len(event.sql):
        # The event keeps the first statements only (instrument/records.py MAX_SQL_STATEMENTS).
        attrs["asgi_dash.sql.not_exported"] = event.sql_count - len(event.sql)
    return attrs


def is_error(event: RequestFinished) -> bool:
    """Status ERROR for a server span: a 5xx or an exception (4xx is the client's error)."""
    return event.error is not None or event.status >= 500


def exception_attributes(error: ExceptionInfo, keep_secrets: bool) -> Attrs:
    """The ``exception`` span event (the traceback only with ``keep_secrets``: locals' values
    can appear in messages of the frames' lines)."""
    attrs: Attrs = {"exception.type": error.type, "exception.message": error.message}
    if keep_secrets and error.traceback:
        attrs["exception.stacktrace"] = error.traceback
    return attrs


def code_attributes(frame: FrameInfo | None) -> Attrs:
    """``code.*`` of a project frame (where a statement was issued)."""
    if frame is None:
        return {}
    return {
        "code.function.name": frame.function,
        "code.file.path": frame.filename,
        "code.line.number": frame.lineno,
    }


@functools.lru_cache(maxsize=1024)
def sql_span_name(sql: str) -> str:
    """``"{operation} {table}"`` (e.g. ``SELECT demoapp_book``), the operation alone, or
    ``"SQL"``: low cardinality, as the database conventions ask of span names. Cached: a page
    repeats its statements (an N+1 is the same text N times)."""
    operation = sql_operation(sql)
    if operation is None:
        return "SQL"
    table = _TABLE.search(sql, 0, 500)
    return f"{operation} {table.group(1)}" if table else operation


def sql_operation(sql: str) -> str | None:
    match = _OPERATION.match(sql)
    return match.group(1).upper() if match else None


@functools.lru_cache(maxsize=1024)
def _sql_attributes(sql: str, many: bool, source: FrameInfo | None) -> Attrs:
    """The statement's attributes without its parameters (shared by every span of the same
    statement from the same line: never mutated, the SDK only reads them)."""
    attrs: Attrs = {"db.query.text": sql}
    operation = sql_operation(sql)
    if operation:
        attrs["db.operation.name"] = operation
    if many:
        attrs["asgi_dash.sql.many"] = True
    attrs.update(code_attributes(source))
    return attrs


def sql_attributes(query: SqlQuery, keep_secrets: bool) -> Attrs:
    attrs = _sql_attributes(query.sql, query.many, query.source)
    if keep_secrets and query.params:
        attrs = dict(attrs)
        for i, value in enumerate(query.params):
            attrs[f"db.query.parameter.{i}"] = value
    return attrs


def websocket_attributes(
    event: WsOpened, server: tuple[str, int], keep_secrets: bool = False
) -> Attrs:
    attrs = connection_attributes(
        event.path, event.query, event.client, event.request_headers, server, keep_secrets
    )
    attrs["network.protocol.name"] = "websocket"
    attrs["asgi_dash.connection_id"] = event.id
    attrs["asgi_dash.generation"] = event.generation
    if event.worker:
        attrs["asgi_dash.worker"] = event.worker
        attrs["asgi_dash.worker_pid"] = event.worker_pid
    if event.subprotocols:
        attrs["asgi_dash.ws.subprotocols"] = ", ".join(event.subprotocols)
    return attrs


def accepted_attributes(event: WsAccepted) -> Attrs:
    attrs: Attrs = {"asgi_dash.ws.accepted": event.accepted}
    if event.consumer:
        attrs["code.function.name"] = event.consumer
    if event.subprotocol:
        attrs["asgi_dash.ws.subprotocol"] = event.subprotocol
    if event.status is not None:
        attrs["http.response.status_code"] = event.status
    return attrs


def frame_attributes(event: WsFrame, keep_secrets: bool) -> Attrs:
    attrs: Attrs = {
        "asgi_dash.ws.direction": event.direction,
        "asgi_dash.ws.size": event.size,
        "asgi_dash.ws.binary": event.binary,
    }
    if keep_secrets and event.preview:
        attrs["asgi_dash.ws.preview"] = event.preview
    return attrs


def closed_attributes(event: WsClosed) -> Attrs:
    attrs: Attrs = {
        "asgi_dash.ws.closed_by": event.by,
        "asgi_dash.ws.frames_in": event.frames_in,
        "asgi_dash.ws.frames_out": event.frames_out,
    }
    if event.code is not None:
        attrs["asgi_dash.ws.close_code"] = event.code
    if event.by == "error":
        attrs["error.type"] = event.error.type if event.error else "consumer error"
    return attrs


__all__ = [
    "AttrValue",
    "Attrs",
    "accepted_attributes",
    "closed_attributes",
    "code_attributes",
    "connection_attributes",
    "exception_attributes",
    "frame_attributes",
    "header",
    "is_error",
    "request_attributes",
    "scrub_query",
    "server_span_name",
    "split_host",
    "sql_attributes",
    "sql_span_name",
    "websocket_attributes",
]
