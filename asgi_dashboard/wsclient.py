"""WebSocket client sessions for the dashboard's WebSocket panel (websockets, plain asyncio).

A :class:`ClientSession` is one connection the developer drives: connect with an ``Origin``
(derived from the URL, so Channels' ``AllowedHostsOriginValidator`` accepts it), extra headers,
cookies and subprotocols; send text, JSON or binary; ping; close with a code and a reason. Every
fact (handshake outcome, frame in or out, state change) goes to one listener callback as a
:data:`SessionUpdate`, and the session keeps a bounded :class:`FrameRecord` log.

Every wait is bounded: ``open_timeout`` for a server that never answers the handshake, a timeout
for pongs and for the closing handshake, and ``max_size`` for a huge frame (websockets closes
with 1009 instead of buffering it). Nothing here imports Textual; the UI wraps the listener into
messages. Each handshake carries :data:`MARKER_HEADER` with the session id, which the server-side
tap records in ``WsOpened.request_headers``: that is how the panel links a connection to its
server-side record.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from .wsclient_data import (
    FRAME_LOG_SIZE,
    MARKER_HEADER,
    RECONNECT_CODES,
    RECONNECT_DELAYS,
    HandshakeResult,
    Outcome,
    OutgoingMessage,
    SessionOptions,
    State,
    StateChanged,
    origin_for,
)
from .wsframes import (
    Direction,
    FrameRecord,
    PayloadError,
    SendMode,
    encode_payload,
    frame_record,
)

__all__ = [
    "MARKER_HEADER",
    "ClientSession",
    "Direction",
    "FrameRecord",
    "HandshakeResult",
    "OutgoingMessage",
    "PayloadError",
    "SendMode",
    "SessionOptions",
    "StateChanged",
    "encode_payload",
    "origin_for",
]


SessionUpdate = FrameRecord | HandshakeResult | StateChanged
Listener = Callable[["ClientSession", SessionUpdate], None]

_ids = itertools.count(1)


def _describe_os_error(exc: OSError, host: str) -> tuple[Outcome, str]:
    import socket

    if isinstance(exc, socket.gaierror):
        return "unknown-host", f"Unknown host '{host}': the name does not resolve."
    if isinstance(exc, ConnectionRefusedError):
        return "refused", f"Connection refused by {host}: is the server running on that port?"
    return "error", f"Could not connect to {host}: {exc.strerror or exc}."


class ClientSession:
    """One WebSocket connection driven from the dashboard (see the module docstring).

    Methods are called on the event loop that runs the UI; the listener is called on it too.
    """

    def __init__(
        self, options: SessionOptions, listener: Listener | None = None, *, name: str = ""
    ) -> None:
        self.options = options
        self.listener = listener
        n = next(_ids)
        #: Sent in :data:`MARKER_HEADER`; unique within this dashboard process.
        self.id = f"c{n}-{int(time.time() * 1000) % 100000:05d}"
        self.name = name or f"#{n}"
        self.state: State = "idle"
        self.frames: deque[FrameRecord] = deque(maxlen=FRAME_LOG_SIZE)
        self.handshake: HandshakeResult | None = None
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._seq = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._user_closed = False
        #: Connections opened so far (the log numbers them).
        self._opened = 0

    # -- reporting ----------------------------------------------------------------------------

    def _notify(self, update: SessionUpdate) -> None:
        if isinstance(update, FrameRecord):
            self.frames.append(update)
        elif isinstance(update, HandshakeResult):
            self.handshake = update
        if self.listener is not None:
            self.listener(self, update)

    def _set_state(self, state: State, detail: str = "") -> None:
        self.state = state
        self._notify(StateChanged(state, detail))

    def _frame(self, direction: Direction, kind: str, data: str | bytes = "", **kw: Any) -> None:
        self._notify(frame_record(next(self._seq), direction, kind, data, **kw))  # type: ignore[arg-type]

    # -- connecting ---------------------------------------------------------------------------

    def _headers(self) -> list[tuple[str, str]]:
        headers = [(MARKER_HEADER, self.id)]
        headers += [(k, v) for k, v in self.options.headers if k.strip()]
        if self.options.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.options.cookies.items())
            headers.append(("Cookie", cookie))
        return headers

    async def connect(self) -> HandshakeResult:
        """Open the connection (bounded by ``open_timeout``); the outcome is also reported."""
        await self._stop_reader()
        self._user_closed = False
        self._set_state("connecting", self.options.url)
        result = await self._open()
        self._notify(result)
        if result.ok:
            self._opened += 1
            # Each connection starts a segment of the log: a reconnect is a new connection.
            self._frame("info", "note", f"connection {self._opened} open: {result.message}")
            self._set_state("open", result.message)
            await self._send_on_connect()
        else:
            self._frame("info", "error", result.message)
            self._set_state("failed", result.message)
        return result

    async def _open(self) -> HandshakeResult:
        opts = self.options
        url = opts.url.strip()
        start = time.perf_counter_ns()

        def result(outcome: Outcome, message: str, **kw: Any) -> HandshakeResult:
            duration = time.perf_counter_ns() - start
            return HandshakeResult(outcome, message, url, duration_ns=duration, **kw)

        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            return result("bad-url", f"'{url}' is not a WebSocket URL: use ws://host:port/path.")
        host = parts.hostname
        origin = origin_for(url) if opts.origin == "auto" else opts.origin
        kwargs: dict[str, Any] = {}
        if host in ("127.0.0.1", "localhost", "::1"):
            kwargs["proxy"] = None  # a system proxy cannot reach the local dev server
        try:
            ws = await connect(
                url,
                origin=origin,  # type: ignore[arg-type]
                additional_headers=self._headers(),
                subprotocols=opts.subprotocols or None,  # type: ignore[arg-type]
                open_timeout=opts.open_timeout,
                close_timeout=opts.close_timeout,
                max_size=opts.max_size,
                **kwargs,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            body = (exc.response.body or b"")[:500].decode("utf-8", "replace")
            hint = ""
            if status == 403 and origin is None:
                hint = " (no Origin header sent: Channels' origin validators reject that)"
            elif status == 403:
                hint = " (the origin validator or the consumer refused it)"
            elif status == 404:
                hint = " (no WebSocket route matches this path)"
            return result(
                "rejected",
                f"Rejected with HTTP {status} {exc.response.reason_phrase}{hint}.",
                status=status,
                response_headers=tuple(exc.response.headers.raw_items()),
                body=body,
            )
        except InvalidURI as exc:
            return result("bad-url", f"'{url}' is not a valid WebSocket URL: {exc}.")
        except TimeoutError:
            return result(
                "timeout", f"No handshake answer within {opts.open_timeout:g} s: server stuck?"
            )
        except InvalidHandshake as exc:
            return result("error", f"Handshake failed: {exc}.")
        except OSError as exc:
            outcome, message = _describe_os_error(exc, parts.netloc)
            return result(outcome, message)
        except ValueError as exc:  # e.g. a header value with a newline
            return result("bad-url", f"Cannot connect: {exc}.")
        self._ws = ws
        self.close_code, self.close_reason = None, ""
        proto = ws.subprotocol
        message = "Accepted" + (f" (subprotocol {proto})" if proto else "") + "."
        self._reader = asyncio.create_task(self._read(ws), name=f"read_ws_{self.id}")
        return result(
            "accepted",
            message,
            status=101,
            subprotocol=proto,
            response_headers=tuple(ws.response.headers.raw_items()) if ws.response else (),
        )

    async def _send_on_connect(self) -> None:
        for message in self.options.on_connect:
            if message.on_connect:
                try:
                    await self.send(message.text, message.mode)
                except (PayloadError, ConnectionError) as exc:
                    self._frame("info", "error", f"on-connect message not sent: {exc}")

    # -- reading ------------------------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                self._frame("in", "binary" if isinstance(message, bytes) else "text", message)
        except ConnectionClosed:
            pass
        except Exception as exc:  # never let the reader die silently
            self._frame("info", "error", f"{type(exc).__name__}: {exc}")
        if self._ws is ws:
            self._closed(ws)

    def _closed(self, ws: ClientConnection) -> None:
        self._ws = None
        proto = ws.protocol
        rcvd, sent, server_first = proto.close_rcvd, proto.close_sent, proto.close_rcvd_then_sent
        if sent is not None and not self._user_closed:
            # websockets itself closed (1009 message too big, 1002 protocol error ...).
            self._frame("out", "close", sent.reason, code=sent.code)
        if rcvd is not None:
            self._frame("in", "close", rcvd.reason, code=rcvd.code)
        first = sent if server_first is False else rcvd or sent
        if first is None:
            code, reason, by = 1006, "connection lost", "network"
        else:
            code, reason = first.code, first.reason
            by = "client" if first is sent else "server"
        self.close_code, self.close_reason = code, reason
        detail = f"closed by {by}: {code}" + (f" {reason}" if reason else "")
        if code == 1009:
            detail += f" (a message over max_size {self.options.max_size} bytes)"
        self._frame("info", "note", f"connection {self._opened} {detail}")
        self._set_state("closed", detail)
        if self.options.auto_reconnect and not self._user_closed and code in RECONNECT_CODES:
            self.schedule_reconnect(f"closed by {by} with {code}")

    # -- reconnecting -------------------------------------------------------------------------

    def schedule_reconnect(self, reason: str) -> None:
        """Reconnect in the background (bounded attempts); e.g. after a server reload."""
        if self._reconnect is not None and not self._reconnect.done():
            return
        self._reconnect = asyncio.create_task(
            self._reconnect_loop(reason), name=f"reconnect_ws_{self.id}"
        )

    def server_restarted(self) -> None:
        """The dashboard's server restarted: reconnect if this session was in use."""
        if not self.options.auto_reconnect or self._user_closed:
            return
        if self.state in ("open", "closed") and self.handshake is not None and self.handshake.ok:
            self.schedule_reconnect("server restarted")

    async def _reconnect_loop(self, reason: str) -> None:
        self._frame("info", "note", f"reconnecting: {reason}")
        for attempt, delay in enumerate(RECONNECT_DELAYS, 1):
            if self._user_closed:
                return
            self._set_state("reconnecting", f"{reason}: attempt {attempt} in {delay:g} s")
            await asyncio.sleep(delay)
            if self._user_closed:
                return
            if self.state == "open" and self._ws is not None:
                await self._drop()  # the server restarted under a connection that still looks open
            result = await self.connect()
            if result.ok or result.outcome in ("rejected", "bad-url"):
                return
        self._set_state("failed", f"gave up reconnecting after {len(RECONNECT_DELAYS)} attempts")

    # -- sending ------------------------------------------------------------------------------

    def _require_open(self) -> ClientConnection:
        if self._ws is None or self.state != "open":
            raise ConnectionError(f"not connected (state: {self.state})")
        return self._ws

    async def send(self, text: str, mode: SendMode = "text") -> FrameRecord:
        """Validate, encode and send one message (PayloadError before anything is sent)."""
        data = encode_payload(text, mode)
        ws = self._require_open()
        # Stamped before the send: the server's "received" must not read as earlier than it.
        sent_at = time.time()
        try:
            await asyncio.wait_for(ws.send(data), self.options.open_timeout + 30)
        except (ConnectionClosed, TimeoutError) as exc:
            raise ConnectionError(f"send failed: {exc}") from None
        kind = "binary" if isinstance(data, bytes) else "text"
        record = frame_record(next(self._seq), "out", kind, data, ts=sent_at)  # type: ignore[arg-type]
        self._notify(record)
        return record

    async def ping(self) -> float:
        """Send a ping and wait (bounded) for its pong; the round-trip time in seconds."""
        ws = self._require_open()
        self._frame("out", "ping")
        try:
            waiter = await ws.ping()
            rtt = await asyncio.wait_for(waiter, self.options.ping_timeout)
        except TimeoutError:
            self._frame("info", "error", f"no pong within {self.options.ping_timeout:g} s")
            raise
        except ConnectionClosed as exc:
            raise ConnectionError(f"ping failed: {exc}") from None
        self._frame("in", "pong", rtt_ns=int(rtt * 1e9))
        return float(rtt)

    # -- closing ------------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closing handshake with ``code`` and ``reason`` (bounded by ``close_timeout``)."""
        self._user_closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        ws = self._ws
        if ws is None:
            if self.state in ("connecting", "reconnecting"):
                self._set_state("closed", "reconnect cancelled")
            return
        self._set_state("closing", f"{code} {reason}".strip())
        self._frame("out", "close", reason, code=code)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code, reason), self.options.close_timeout + 1)
        await self._stop_reader(timeout=self.options.close_timeout + 1)
        if self._ws is ws:
            self._closed(ws)

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(1001, "reconnecting"), 1)
        await self._stop_reader()

    async def _stop_reader(self, timeout: float = 1.0) -> None:
        reader, self._reader = self._reader, None
        if reader is None or reader.done():
            return
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(reader), timeout)
        if not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def aclose(self) -> None:
        """Forget the session: stop reconnecting, close quickly, stop the reader."""
        self._user_closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(1001, "client going away"), 1)
        await self._stop_reader()
