"""What a WebSocket client session is told and what it reports (no I/O, no websockets).

The options and messages the panel hands :class:`~asgi_dashboard.wsclient.ClientSession`, the
outcomes and state changes it reports, and the marker header that links a session to the
server-side record of its connection (the model reads it from ``WsOpened.request_headers``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from .wsframes import SendMode

#: Request header that carries the session id to the server side (see the module docstring).
MARKER_HEADER = "x-asgi-dash-client"
#: Frames kept per session (the oldest go first).
FRAME_LOG_SIZE = 2000
#: Close codes after which the server is probably back soon: going away (1001), abnormal
#: closure (1006, the process died), service restart (1012), try again later (1013).
RECONNECT_CODES = frozenset({1001, 1006, 1012, 1013})
#: Delays (seconds) between reconnect attempts after a server reload; then the session gives up.
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0)

Outcome = Literal["accepted", "rejected", "refused", "timeout", "bad-url", "unknown-host", "error"]
State = Literal["idle", "connecting", "open", "closing", "closed", "failed", "reconnecting"]


def origin_for(url: str) -> str | None:
    """The browser-style origin of a ws:// URL: ``ws://h:p/x`` -> ``http://h:p``."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        return None
    return f"{scheme}://{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to send; ``on_connect`` ones are (re)sent after every successful handshake."""

    text: str
    mode: SendMode = "text"
    on_connect: bool = False


@dataclass(slots=True)
class SessionOptions:
    """How to connect. ``origin``: "auto" derives it from the URL; None sends no Origin."""

    url: str
    origin: str | None = "auto"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)
    subprotocols: list[str] = field(default_factory=list)
    open_timeout: float = 5.0
    close_timeout: float = 2.0
    ping_timeout: float = 5.0
    #: Largest incoming message; larger ones close the connection with 1009 (never buffered).
    max_size: int = 16 * 1024 * 1024
    auto_reconnect: bool = True
    on_connect: list[OutgoingMessage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """How a connection attempt ended. ``message`` is one sentence for the UI."""

    outcome: Outcome
    message: str
    url: str
    status: int | None = None
    subprotocol: str | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    duration_ns: int = 0
    ts: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.outcome == "accepted"


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The session moved to ``state``; ``detail`` says why (close code and reason, an error)."""

    state: State
    detail: str = ""
    ts: float = field(default_factory=time.time)
