"""Export requests as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/).

The result opens in a browser's DevTools (Network tab, "Import HAR"). ``Authorization``,
``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie`` values are redacted by default (headers
and the parsed ``cookies`` arrays), because a HAR file gets attached to bug reports.

What HAR cannot say is kept in underscore-prefixed custom fields (allowed by the spec): the view,
its kind, the SQL statements (count, each one's time, parameters and issuing project line:
parameters are redacted like cookies by default) and the server-side timings. WebSocket
connections are exported as Chrome DevTools writes them: a ``GET`` entry answered 101 with
``_resourceType: "websocket"`` and the frames in ``_webSocketMessages`` (``type`` send/receive
from the client's side, ``time`` in epoch seconds, ``opcode`` 1 text / 2 binary, ``data``); the
frames are the server's bounded previews (binary frames as hex), which the entry's ``comment``
says. No Textual here.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from . import __version__
from .events import Header, RequestFinished, SqlQuery, WsFrame
from .formatting import request_url
from .model.rows import WsConnection
from .redact import REDACTED, SENSITIVE_HEADERS, redact_sql_params  # the one rule (redact.py)

HAR_VERSION = "1.2"


def _server_timings(total: float) -> dict[str, float]:
    """HAR timings as a server-side recorder knows them: all of it is "wait" (the ASGI call to
    the last body chunk); the client's phases are unknown (-1) or nothing (0)."""
    return {
        "blocked": -1,
        "dns": -1,
        "connect": -1,
        "ssl": -1,
        "send": 0,
        "wait": total,
        "receive": 0,
    }


def default_filename(now: datetime.datetime | None = None) -> str:
    """``./asgi-dash-20250101-120000.har``: the path the export dialog proposes."""
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return f"./asgi-dash-{stamp}.har"


def _ms(ns: int | None) -> float:
    return round(ns / 1e6, 3) if ns else 0.0


def _headers(headers: Iterable[Header], redact: bool) -> list[dict[str, str]]:
    return [
        {"name": k, "value": REDACTED if redact and k.lower() in SENSITIVE_HEADERS else v}
        for k, v in headers
    ]


def _header(headers: Iterable[Header], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _request_cookies(headers: Iterable[Header], redact: bool) -> list[dict[str, str]]:
    cookies = []
    for k, v in headers:
        if k.lower() != "cookie":
            continue
        for pair in v.split(";"):
            name, _, value = pair.strip().partition("=")
            if name:
                cookies.append({"name": name, "value": REDACTED if redact else value})
    return cookies


def _response_cookies(headers: Iterable[Header], redact: bool) -> list[dict[str, Any]]:
    cookies = []
    for k, v in headers:
        if k.lower() != "set-cookie":
            continue
        first, *attrs = v.split(";")
        name, _, value = first.strip().partition("=")
        cookie: dict[str, Any] = {"name": name, "value": REDACTED if redact else value}
        for attr in attrs:
            a_name, _, a_value = attr.strip().partition("=")
            lowered = a_name.lower()
            if lowered in ("path", "domain"):
                cookie[lowered] = a_value
            elif lowered == "expires" and (expires := _iso_expires(a_value)) is not None:
                cookie["expires"] = expires
            elif lowered == "httponly":
                cookie["httpOnly"] = True
            elif lowered == "secure":
                cookie["secure"] = True
        cookies.append(cookie)
    return cookies


def _iso_expires(value: str) -> str | None:
    """A cookie's ``Expires`` (an HTTP date) in ISO 8601, as HAR 1.2 asks; None if unreadable."""
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive: HTTP dates are GMT
        when = when.replace(tzinfo=datetime.UTC)
    return when.isoformat()


def _sql(queries: Iterable[SqlQuery], redact: bool) -> list[dict[str, Any]]:
    """The recorded statements: SQL, time, parameters (redacted like cookies) and the project
    line that issued each one."""
    out = []
    for q in queries:
        statement: dict[str, Any] = {
            "sql": q.sql,
            "ms": _ms(q.duration_ns),
            "params": list(redact_sql_params(q.params) if redact else q.params),
        }
        if q.many:
            statement["many"] = True
        if q.source is not None:
            statement["source"] = f"{q.source.filename}:{q.source.lineno}"
        out.append(statement)
    return out


def _started(ts: float) -> str:
    # ISO 8601 with an explicit offset, as the spec requires.
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).isoformat(timespec="milliseconds")


def entry(request: RequestFinished, base_url: str, *, redact: bool = True) -> dict[str, Any]:
    """One HAR ``entry`` for a finished request."""
    total = _ms(request.total_ns)
    req_type = _header(request.request_headers, "content-type") or ""
    resp_type = _header(request.response_headers, "content-type") or ""
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": request_url(request, base_url),
        "httpVersion": "HTTP/1.1",
        "cookies": _request_cookies(request.request_headers, redact),
        "headers": _headers(request.request_headers, redact),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(request.query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(request.request_body) if request.request_body else 0,
    }
    if request.request_body:
        post: dict[str, Any] = {"mimeType": req_type, "text": request.request_body}
        if request.request_body_b64:
            post["_encoding"] = "base64"
        if request.request_body_truncated:
            post["comment"] = "truncated preview"
            har_request["bodySize"] = -1
        har_request["postData"] = post
    content: dict[str, Any] = {
        "size": request.response_size,
        "mimeType": resp_type,
        "text": request.response_body,
    }
    if request.response_body_b64:
        content["encoding"] = "base64"
    if request.response_body_truncated:
        content["comment"] = "truncated preview"
    return {
        "startedDateTime": _started(request.ts),
        "time": total,
        "request": har_request,
        "response": {
            "status": request.status,
            "statusText": _status_text(request.status),
            "httpVersion": "HTTP/1.1",
            "cookies": _response_cookies(request.response_headers, redact),
            "headers": _headers(request.response_headers, redact),
            "content": content,
            "redirectURL": _header(request.response_headers, "location") or "",
            "headersSize": -1,
            "bodySize": request.response_size,
        },
        "cache": {},
        # The server only knows the time from the ASGI call to the last body chunk: that is the
        # "wait" (time to first byte) as far as a server-side recorder can tell.
        "timings": _server_timings(total),
        "_asgiDash": {
            "id": request.id,
            "view": request.view,
            "route": request.route,
            "kind": "static" if request.static else request.kind,
            "viewMs": _ms(request.view_ns) if request.view_ns is not None else None,
            "threadWaitMs": (
                _ms(request.thread_wait_ns) if request.thread_wait_ns is not None else None
            ),
            "templateMs": _ms(request.template_ns) if request.template_ns else None,
            "sqlCount": request.sql_count,
            "sqlMs": _ms(request.sql_ns),
            "sql": _sql(request.sql, redact),
            "error": (f"{request.error.type}: {request.error.message}" if request.error else None),
        },
    }


@dataclass(frozen=True, slots=True)
class WsExport:
    """A WebSocket connection to export: its log row and the server-side frames kept for it."""

    connection: WsConnection
    frames: Sequence[WsFrame] = ()


Exportable = RequestFinished | WsExport


def _ws_url(conn: WsConnection, base_url: str) -> str:
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return base + conn.path + (f"?{conn.query}" if conn.query else "")


def _ws_message(frame: WsFrame) -> dict[str, Any]:
    # Chrome's form: "send" is what the page (the client) sent, "receive" what it got.
    return {
        "type": "send" if frame.direction == "in" else "receive",
        "time": frame.ts,
        "opcode": 2 if frame.binary else 1,
        "data": frame.preview,
    }


def ws_entry(export: WsExport, base_url: str, *, redact: bool = True) -> dict[str, Any]:
    """One HAR entry for a WebSocket connection, with ``_webSocketMessages`` as Chrome writes it."""
    conn = export.connection
    # 101 once accepted, the HTTP status of a rejection, 0 while the handshake is pending.
    status = 0 if conn.accepted is None else 101 if conn.accepted else (conn.status or 403)
    total = _ms(conn.duration_ns)
    kept = len(export.frames)
    sent = conn.frames_in + conn.frames_out
    note = "frames are the server's previews (binary as hex, long text truncated)"
    if kept < sent:
        note += f"; {kept} of {sent} frames kept"
    return {
        "startedDateTime": _started(conn.ts),
        "time": total,
        "_resourceType": "websocket",
        "request": {
            "method": "GET",
            "url": _ws_url(conn, base_url),
            "httpVersion": "HTTP/1.1",
            "cookies": _request_cookies(conn.request_headers, redact),
            "headers": _headers(conn.request_headers, redact),
            "queryString": [
                {"name": k, "value": v} for k, v in parse_qsl(conn.query, keep_blank_values=True)
            ],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": status,
            "statusText": _status_text(status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": _server_timings(total),
        "comment": note,
        "_webSocketMessages": [_ws_message(f) for f in export.frames],
        "_asgiDash": {
            "id": conn.id,
            "consumer": conn.consumer,
            "kind": "ws",
            "closeCode": conn.code,
            "closeReason": conn.reason,
            "closedBy": conn.by or None,
            "framesIn": conn.frames_in,
            "framesOut": conn.frames_out,
            "error": f"{conn.error.type}: {conn.error.message}" if conn.error else None,
        },
    }


def build_har(items: Iterable[Exportable], base_url: str, *, redact: bool = True) -> dict[str, Any]:
    """The whole HAR document (``{"log": ...}``) for these requests and connections, in order."""
    entries = [
        ws_entry(i, base_url, redact=redact)
        if isinstance(i, WsExport)
        else entry(i, base_url, redact=redact)
        for i in items
    ]
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "asgi-dash", "version": __version__},
            "entries": entries,
            "comment": (
                "Exported by asgi-dash; sensitive headers and SQL parameters redacted"
                if redact
                else "Exported by asgi-dash; sensitive headers and SQL parameters kept"
            ),
        }
    }


def write_har(
    path: str | os.PathLike[str],
    items: Iterable[Exportable],
    base_url: str,
    *,
    redact: bool = True,
) -> tuple[Path, int]:
    """Write the HAR file (atomically: a partial file never replaces a good one).

    Returns the resolved path and the number of entries written.
    """
    target = Path(path).expanduser()
    document = build_har(items, base_url, redact=redact)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, target)
    return target.resolve(), len(document["log"]["entries"])


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
