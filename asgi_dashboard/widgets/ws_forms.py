"""Parsing what the WebSocket panel's form fields hold (pure functions, no Textual)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..wsclient_data import MARKER_HEADER

if TYPE_CHECKING:
    from ..runtime.tools import WsRoute

_PARAM = re.compile(r"\{(\w+)\}")


def ws_base(server_url: str) -> str:
    """``http://127.0.0.1:8000/`` -> ``ws://127.0.0.1:8000`` (no trailing slash)."""
    url = server_url.rstrip("/")
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def parse_headers(text: str) -> list[tuple[str, str]]:
    """``Name: value; Other: value`` (or one per line) -> pairs; entries without ':' are skipped."""
    pairs: list[tuple[str, str]] = []
    for part in re.split(r"[;\n]", text):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def parse_subprotocols(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,\s]+", text) if p.strip()]


def unfilled_params(url: str) -> list[str]:
    """Route parameters still written as ``{name}`` in a URL taken from a route template."""
    return ["{" + m + "}" for m in _PARAM.findall(url)]


def route_label(route: WsRoute) -> str:
    """``/ws/chat/{room}/  ChatConsumer`` for the routes list."""
    consumer = (route.consumer or "?").rsplit(".", 1)[-1]
    return f"{route.path}  {consumer}"


#: Handshake headers websocat writes itself (or that only link the panel's own sessions).
_WEBSOCAT_SKIP = {
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "content-length",
    MARKER_HEADER,
}


def websocat_command(
    path: str, query: str, headers: Sequence[tuple[str, str]], base_url: str
) -> str:
    """A ``websocat`` command line that opens the same connection against the running server
    (the cookie and Origin kept, as curl_command keeps them for requests; subprotocols as
    ``--protocol``). curl cannot speak WebSocket frames, so the detail screen offers this."""
    url = ws_base(base_url) + path + (f"?{query}" if query else "")
    parts = ["websocat"]
    for name, value in headers:
        if name.lower() == "sec-websocket-protocol":
            parts += ["--protocol", shlex.quote(value)]
        elif name.lower() not in _WEBSOCAT_SKIP:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts.append(shlex.quote(url))
    return " ".join(parts)
