"""The WebSocket half of the ASGI tap: one :class:`WebSocketTap` per connection.

It turns the connection's ASGI messages into ``WsOpened``, ``WsAccepted``, ``WsFrame`` and
``WsClosed`` events, each exactly once per connection whatever way it ends (the client left,
the app closed, rejected the handshake, or raised).
"""

from __future__ import annotations

import time
from typing import Literal

from ..events import ExceptionInfo, WsAccepted, WsClosed, WsFrame, WsOpened
from . import identity
from .errors import exception_info
from .previews import (
    BINARY_PREVIEW,
    FRAME_PREVIEW,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    client_address,
    kept_headers,
)
from .records import ConnectionRecord, current_connection
from .sink import EventSink

Direction = Literal["in", "out"]
ClosedBy = Literal["client", "server", "error"]


class WebSocketTap:
    """What the tap knows about one WebSocket connection while the app serves it."""

    __slots__ = (
        "accepted",
        "answered",
        "closed",
        "conn",
        "conn_id",
        "emit",
        "frames_in",
        "frames_out",
        "generation",
        "scope",
        "start_ns",
    )

    def __init__(self, scope: Scope, conn_id: str, generation: int, sink: EventSink) -> None:
        self.scope = scope
        self.conn_id = conn_id
        self.generation = generation
        self.emit = sink.emit
        self.start_ns = time.perf_counter_ns()
        self.conn = ConnectionRecord(conn_id=conn_id)
        #: The handshake was answered (accepted or not), the accept, the close was reported.
        self.answered = False
        self.accepted = False
        self.closed = False
        self.frames_in = 0
        self.frames_out = 0

    async def run(
        self, app: ASGIApp, receive: Receive, send: Send, project_dir: str | None
    ) -> None:
        """Call ``app`` for the connection, reporting what flows and how it ended."""

        async def tapped_receive() -> Message:
            message = await receive()
            self.received(message)
            return message

        async def tapped_send(message: Message) -> None:
            self.sent(message)
            await send(message)

        token = current_connection.set(self.conn)
        try:
            await app(self.scope, tapped_receive, tapped_send)
        except BaseException as exc:
            if not self.answered:
                self.answer(False, 500)
            if not self.closed:
                # On the wire: Uvicorn's websockets-sansio run_asgi only closes the transport
                # when the app raises after the handshake (no close frame), so the client
                # sees 1006, as recorded here; before the handshake it answers HTTP 500.
                code = 1006 if self.accepted else None
                self.close(code, "", "error", exception_info(exc, project_dir))
            raise
        finally:
            current_connection.reset(token)
            if not self.answered:
                self.answer(False, 403)
            if not self.closed:
                self.close(1000 if self.accepted else None, "", "server")

    def received(self, message: Message) -> None:
        """Report a message the app received."""
        mtype = message["type"]
        if mtype == "websocket.connect":
            scope = self.scope
            headers, dropped = kept_headers(scope.get("headers", ()))
            self.emit(
                WsOpened(
                    id=self.conn_id,
                    generation=self.generation,
                    worker=identity.worker_index(),
                    worker_pid=identity.worker_pid(),
                    path=scope.get("path", ""),
                    query=scope.get("query_string", b"").decode("latin-1"),
                    client=client_address(scope),
                    subprotocols=tuple(scope.get("subprotocols") or ()),
                    request_headers=headers,
                    request_headers_dropped=dropped,
                )
            )
        elif mtype == "websocket.receive":
            self.frames_in += 1
            self.frame("in", message)
        elif mtype == "websocket.disconnect" and not self.closed:
            code = message.get("code", 1005)
            # 1012 (service restart) is Uvicorn closing the socket on a reload: the server's.
            by: ClosedBy = "server" if code == 1012 else "client"
            self.close(code, message.get("reason") or "", by)

    def sent(self, message: Message) -> None:
        """Report a message the app sends."""
        mtype = message["type"]
        if mtype == "websocket.accept":
            self.answer(True, None, message.get("subprotocol"))
        elif mtype == "websocket.send":
            self.frames_out += 1
            self.frame("out", message)
        elif mtype == "websocket.close":
            if not self.answered:
                # A close before accept is a rejected handshake: the server answers 403.
                self.answer(False, 403)
                self.close(None, message.get("reason") or "", "server")
            elif not self.closed:
                self.close(message.get("code", 1000), message.get("reason") or "", "server")
        elif mtype == "websocket.http.response.start" and not self.answered:
            self.answer(False, message.get("status"))

    def answer(self, accepted: bool, status: int | None, subprotocol: str | None = None) -> None:
        """Report how the handshake was answered."""
        self.answered = True
        self.accepted = accepted
        self.emit(
            WsAccepted(
                id=self.conn_id,
                accepted=accepted,
                status=status,
                subprotocol=subprotocol,
                consumer=self.conn.consumer,
                url_kwargs=self.conn.url_kwargs,
                user=self.conn.user,
            )
        )

    def close(
        self, code: int | None, reason: str, by: ClosedBy, error: ExceptionInfo | None = None
    ) -> None:
        """Report the connection's end (once)."""
        self.closed = True
        self.emit(
            WsClosed(
                id=self.conn_id,
                code=code,
                reason=reason,
                by=by,
                duration_ns=time.perf_counter_ns() - self.start_ns,
                frames_in=self.frames_in,
                frames_out=self.frames_out,
                consumer=self.conn.consumer,
                error=error,
            )
        )

    def frame(self, direction: Direction, message: Message) -> None:
        """Report one frame (a bounded preview: hex for binary, text otherwise)."""
        data = message.get("bytes")
        if data is not None:
            self.emit(
                WsFrame(
                    id=self.conn_id,
                    direction=direction,
                    size=len(data),
                    binary=True,
                    preview=data[:BINARY_PREVIEW].hex(" "),
                    truncated=len(data) > BINARY_PREVIEW,
                )
            )
            return
        text = message.get("text") or ""
        self.emit(
            WsFrame(
                id=self.conn_id,
                direction=direction,
                size=len(text.encode("utf-8")),
                preview=text[:FRAME_PREVIEW],
                truncated=len(text) > FRAME_PREVIEW,
            )
        )
