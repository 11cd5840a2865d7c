"""The request log model: history rows, WebSocket rows, server status, and batch ingestion.

:class:`Dashboard` is what the app feeds with event batches; it reports what changed
(:class:`Ingested`) so each widget updates only what it must. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .events import (
    CheckMessage,
    ConsoleOutput,
    Event,
    EventsDropped,
    ExceptionInfo,
    FilesChanged,
    Header,
    LogRecord,
    LoopBlocked,
    LoopLag,
    MiddlewareAudit,
    ReloadFinished,
    ReloadLoopDetected,
    RequestFinished,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from .stats import RingBuffer, ViewStats

Badge = Literal["sync", "async", "ws", "static", "-"]

# --------------------------------------------------------------------------------------------
# Log rows
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class WsConnection:
    """A WebSocket connection as one log row, completed as its events arrive."""

    id: str
    ts: float
    path: str
    query: str = ""
    generation: int = 0
    client: str | None = None
    request_headers: tuple[Header, ...] = ()
    #: None while the handshake is pending.
    accepted: bool | None = None
    status: int | None = None
    consumer: str | None = None
    closed: bool = False
    code: int | None = None
    reason: str = ""
    by: str = ""
    duration_ns: int = 0
    frames_in: int = 0
    frames_out: int = 0
    error: ExceptionInfo | None = None


Entry = RequestFinished | WsConnection


@dataclass(slots=True, eq=False)
class LogItem:
    """One row of the request log: a sequence number (stable row key) and its entry.

    The properties give filters and widgets one shape for HTTP requests and WebSockets.
    """

    seq: int
    entry: Entry

    @property
    def key(self) -> str:
        return str(self.seq)

    @property
    def is_ws(self) -> bool:
        return isinstance(self.entry, WsConnection)

    @property
    def is_static(self) -> bool:
        return isinstance(self.entry, RequestFinished) and self.entry.static

    @property
    def method(self) -> str:
        return "WS" if isinstance(self.entry, WsConnection) else self.entry.method

    @property
    def status(self) -> int | None:
        e = self.entry
        if isinstance(e, RequestFinished):
            return e.status
        if e.accepted is None:
            return None
        return 101 if e.accepted else (e.status or 403)

    @property
    def view(self) -> str | None:
        e = self.entry
        return e.consumer if isinstance(e, WsConnection) else e.view

    @property
    def badge(self) -> Badge:
        e = self.entry
        if isinstance(e, WsConnection):
            return "ws"
        if e.static:
            return "static"
        return e.kind or "-"

    @property
    def total_ns(self) -> int:
        e = self.entry
        return e.duration_ns if isinstance(e, WsConnection) else e.total_ns

    @property
    def sql_count(self) -> int:
        e = self.entry
        return 0 if isinstance(e, WsConnection) else e.sql_count

    @property
    def is_error(self) -> bool:
        """A server error: an exception was raised, or the status is 5xx (not a request a
        reload cut short: its 503 is the server restarting, not the view failing)."""
        e = self.entry
        if isinstance(e, WsConnection):
            return e.error is not None or e.by == "error"
        return e.error is not None or (e.status >= 500 and e.cancelled is None)


# --------------------------------------------------------------------------------------------
# Server status (what the status bar shows), derived from lifecycle events
# --------------------------------------------------------------------------------------------

ServerState = Literal[
    "waiting", "starting", "running", "restarting", "stopped", "crashed", "failed"
]


@dataclass(slots=True)
class ServerStatus:
    """Everything the status bar shows; :meth:`apply` returns True when something changed."""

    state: ServerState = "waiting"
    url: str | None = None
    mode: str = ""
    pid: int | None = None
    generation: int = 0
    #: Wall time the current server started accepting (for uptime); None when not running.
    started_ts: float | None = None
    starts: int = 0
    requests: int = 0
    errors: int = 0
    django: str = ""
    uvicorn: str = ""
    python: str = ""
    failure: ServerFailed | None = None
    #: The last crash of the current server and what follows it (restart scheduled or a crash
    #: loop); None once a server runs again.
    crash: ServerStopped | None = None
    #: Event-loop lag of the server process: the latest sample and the max over the last minute.
    loop_lag_ns: int | None = None
    loop_lag_max_ns: int | None = None

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def apply(self, event: Event) -> bool:
        match event:
            case RequestFinished():
                self.requests += 1
                self.errors += event.error is not None or (
                    event.status >= 500 and event.cancelled is None
                )
            case ServerStarting():
                self.state = "restarting" if self.starts or self.failure else "starting"
                self.mode = event.mode
                self.generation = event.generation
            case ServerStarted():
                self.state = "running"
                self.url, self.pid, self.mode = event.url, event.pid, event.mode
                self.generation = event.generation
                self.started_ts = event.ts
                self.starts += 1
                self.django, self.uvicorn, self.python = event.django, event.uvicorn, event.python
                self.failure = None
                self.crash = None
            case ServerFailed():
                self.state = "failed"
                self.failure = event
                self.started_ts = None
            case LoopLag():
                changed = (event.current_ns, event.max_ns) != (
                    self.loop_lag_ns,
                    self.loop_lag_max_ns,
                )
                self.loop_lag_ns, self.loop_lag_max_ns = event.current_ns, event.max_ns
                return changed
            case ServerStopped():
                # A stop that belongs to an older generation (the old server draining after a
                # restart) must not mark the new one as stopped.
                if event.generation and event.generation < self.generation:
                    return False
                if self.state != "failed":
                    self.state = {"crashed": "crashed", "failed": "failed"}.get(
                        event.reason, "stopped"
                    )  # type: ignore[assignment]
                self.crash = event if event.reason == "crashed" else None
                self.started_ts = None
            case _:
                return False
        return True


# --------------------------------------------------------------------------------------------
# The model the app feeds
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Ingested:
    """What one batch changed."""

    new_items: list[LogItem] = field(default_factory=list)
    #: Rows already in the log that changed (a WebSocket was accepted or closed).
    updated_items: list[LogItem] = field(default_factory=list)
    #: Events for the console, in order.
    console: list[Event] = field(default_factory=list)
    status_changed: bool = False
    failure: ServerFailed | None = None
    started: bool = False


#: Events the console shows (besides WebSocket connections that ended with an error).
CONSOLE_TYPES: tuple[type[Event], ...] = (
    LogRecord,
    ConsoleOutput,
    CheckMessage,
    ServerStarting,
    ServerStarted,
    ServerStopped,
    ServerFailed,
    FilesChanged,
    ReloadFinished,
    ReloadLoopDetected,
    LoopBlocked,
    LoopLag,
    EventsDropped,
    MiddlewareAudit,
)


class Dashboard:
    """History, per-view stats and server status, updated from event batches."""

    def __init__(self, history: int = 5000) -> None:
        self.history: RingBuffer[LogItem] = RingBuffer(history)
        self.views = ViewStats()
        self.status = ServerStatus()
        #: Open or recent WebSocket rows by connection id, to complete them as events arrive.
        self.ws_rows: dict[str, LogItem] = {}
        self._seq = 0

    def _add(self, entry: Entry) -> LogItem:
        self._seq += 1
        item = LogItem(self._seq, entry)
        evicted = self.history.append(item)
        if evicted is not None and isinstance(evicted.entry, WsConnection):
            self.ws_rows.pop(evicted.entry.id, None)
        return item

    def ingest(self, events: Iterable[Event]) -> Ingested:
        out = Ingested()
        for event in events:
            if self.status.apply(event):
                out.status_changed = True
            if isinstance(event, RequestFinished):
                item = self._add(event)
                self.views.add(event, item.is_error)
                out.new_items.append(item)
            elif isinstance(event, WsOpened | WsAccepted | WsFrame | WsClosed):
                self._ws(event, out)
            else:
                if isinstance(event, ServerFailed):
                    out.failure = event
                elif isinstance(event, ServerStarted):
                    out.started = True
                if isinstance(event, CONSOLE_TYPES):
                    out.console.append(event)
        return out

    def _ws(self, event: WsOpened | WsAccepted | WsFrame | WsClosed, out: Ingested) -> None:
        if isinstance(event, WsOpened):
            conn = WsConnection(
                id=event.id,
                ts=event.ts,
                path=event.path,
                query=event.query,
                generation=event.generation,
                client=event.client,
                request_headers=event.request_headers,
            )
            item = self._add(conn)
            self.ws_rows[event.id] = item
            out.new_items.append(item)
            return
        known = self.ws_rows.get(event.id)
        if known is None or not isinstance(known.entry, WsConnection):
            return  # opened before a clear, or evicted: nothing to update
        item, conn = known, known.entry
        if isinstance(event, WsAccepted):
            conn.accepted, conn.status = event.accepted, event.status
            conn.consumer = event.consumer
        elif isinstance(event, WsFrame):
            # Counted live; frames are for the WebSocket panel, not a log row each.
            if event.direction == "in":
                conn.frames_in += 1
            else:
                conn.frames_out += 1
            return  # no visible change worth a row update per frame
        else:
            conn.closed, conn.code, conn.reason, conn.by = True, event.code, event.reason, event.by
            conn.duration_ns, conn.error = event.duration_ns, event.error
            conn.frames_in, conn.frames_out = event.frames_in, event.frames_out
            conn.consumer = conn.consumer or event.consumer
            self.ws_rows.pop(event.id, None)
            if event.error is not None:
                out.console.append(event)
        if item not in out.new_items:
            out.updated_items.append(item)

    def clear(self) -> None:
        """Forget the log and per-view stats (the status bar's server totals stay)."""
        self.history.clear()
        self.ws_rows.clear()
        self.views.clear()

    def items_matching(self, predicate: Callable[[LogItem], bool], limit: int) -> list[LogItem]:
        """The newest ``limit`` history items the predicate accepts, oldest first."""
        found: list[LogItem] = []
        for item in reversed(self.history):
            if predicate(item):
                found.append(item)
                if len(found) >= limit:
                    break
        found.reverse()
        return found
