"""What the ASGI tap keeps of each message: the ASGI types, bounded headers, body previews.

Every event travels through the pipe, the dashboard's ring buffer and ``--json``, so what is
kept of headers, bodies and frames is bounded here; the event's size fields stay exact.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = tuple[tuple[str, str], ...]

#: Body previews kept per request and response (the size field stays exact).
BODY_PREVIEW = 64 * 1024
#: Frame previews kept per WebSocket frame.
FRAME_PREVIEW = 4 * 1024
BINARY_PREVIEW = 256

_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "graphql")

#: Headers kept per event (request or response), by count and by total size of names and values:
#: a request may carry thousands (Uvicorn's h11 accepts them), and each event travels through the
#: pipe, the ring buffer and ``--json``. The ``*_headers_dropped`` field counts the rest.
MAX_EVENT_HEADERS = 100
MAX_EVENT_HEADER_BYTES = 64 * 1024


def kept_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[Headers, int]:
    """The headers kept for an event (in order, up to :data:`MAX_EVENT_HEADERS` and
    :data:`MAX_EVENT_HEADER_BYTES`) and how many were dropped."""
    kept: list[tuple[str, str]] = []
    room = MAX_EVENT_HEADER_BYTES
    total = 0
    for k, v in raw:
        total += 1
        if len(kept) < MAX_EVENT_HEADERS and len(k) + len(v) <= room:
            room -= len(k) + len(v)
            kept.append((k.decode("latin-1"), v.decode("latin-1")))
        else:
            room = -1  # keep a prefix: once one is dropped, the rest are too
    return tuple(kept), total - len(kept)


def content_type(headers: Headers) -> str:
    """The lower-cased Content-Type of ``headers`` ("" without one)."""
    for k, v in headers:
        if k.lower() == "content-type":
            return v.lower()
    return ""


def preview(body: bytes, ctype: str) -> tuple[str, bool]:
    """(text, is_base64): text for textual content types, base64 otherwise."""
    if not body:
        return "", False
    if any(t in ctype for t in _TEXT_TYPES) or not ctype:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            if ctype.startswith("text/"):
                return body.decode("latin-1"), False
    return base64.b64encode(body).decode("ascii"), True


def client_address(scope: Scope) -> str | None:
    """``host:port`` of the scope's client, if the server knows it."""
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None
