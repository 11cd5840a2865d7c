"""The dashboard's state, fed with event batches: :meth:`Dashboard.ingest` returns a ChangeSet.

Each event is looked at once: a request becomes a log row and a view-stats sample, a WebSocket
event updates its log row and its server-side record together, reload events become timeline
rows, lifecycle events the status, and what the console shows is listed in order. No Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..events import (
    CheckMessage,
    ConsoleOutput,
    Event,
    EventsDropped,
    FilesChanged,
    HandlerRun,
    LayerOp,
    LogRecord,
    LoopBlocked,
    LoopLag,
    MiddlewareAudit,
    ReloadFinished,
    ReloadLoopDetected,
    ReloadWatching,
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
from ..stats import RingBuffer, ViewStats
from .changes import ChangeSet
from .reloads import ReloadHistory, describe_watch
from .rows import Entry, LogItem, WsConnection
from .status import ServerStatus
from .ws import ServerRecords

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
#: Events that make or complete a reload timeline row.
RELOAD_TYPES = (FilesChanged, ReloadFinished, ReloadLoopDetected, ServerFailed)
WS_TYPES = (WsOpened, WsAccepted, WsFrame, WsClosed)
#: Channel-layer operations and consumer handler runs (see model/ws.py).
LAYER_TYPES = (LayerOp, HandlerRun)
#: Requests remembered with the layer operations their view made until the request arrives.
MAX_PENDING_LAYER = 1000


class _Batch:
    """The mutable side of a ChangeSet while a batch is ingested."""

    __slots__ = ("console", "failure", "new", "reloads", "started", "status", "updated", "ws")

    def __init__(self) -> None:
        self.new: list[LogItem] = []
        self.updated: list[LogItem] = []
        self.console: list[Event] = []
        self.status = False
        self.failure: ServerFailed | None = None
        self.started: list[ServerStarted] = []
        self.ws: set[str] = set()
        self.reloads = False


class Dashboard:
    """The request log, per-view stats, status, WebSocket records, reloads and the audit."""

    def __init__(
        self, history: int = 5000, *, reload: bool = True, notices: tuple[str, ...] = ()
    ) -> None:
        self.history: RingBuffer[LogItem] = RingBuffer(history)
        self.views = ViewStats()
        self.status = ServerStatus(notices=notices)
        #: Server-side records of WebSocket connections (the panel shows them).
        self.ws = ServerRecords()
        self.reloads = ReloadHistory()
        #: Whether the runtime reloads on changes (else the Reloads tab says how to restart).
        self.reload = reload
        #: What the watcher watches, as it reported it; None until it started.
        self.watching: ReloadWatching | None = None
        #: The newest middleware audit the server reported (one per server start).
        self.audit: MiddlewareAudit | None = None
        #: The newest blocked-loop report (the editor key opens its frame from the console).
        self.blocked: LoopBlocked | None = None
        #: Open or recent WebSocket rows by connection id, to complete them as events arrive.
        self.ws_rows: dict[str, LogItem] = {}
        #: request id -> layer operations its view made (the request's event comes after them).
        self._layer_by_request: dict[str, int] = {}
        self._seq = 0

    @property
    def watch_text(self) -> str:
        """What the Reloads tab says is watched."""
        return describe_watch(self.watching, reload=self.reload)

    def _add(self, entry: Entry) -> LogItem:
        self._seq += 1
        item = LogItem(self._seq, entry)
        evicted = self.history.append(item)
        if evicted is not None and isinstance(evicted.entry, WsConnection):
            self.ws_rows.pop(evicted.entry.id, None)
        return item

    def ingest(self, events: Iterable[Event]) -> ChangeSet:
        out = _Batch()
        watching = audit = None
        for event in events:
            if self.status.apply(event):
                out.status = True
            if isinstance(event, RequestFinished):
                item = self._add(event)
                item.layer_ops = self._layer_by_request.pop(event.id, 0)
                self.views.add(event, item.is_error)
                out.new.append(item)
                continue
            if isinstance(event, WS_TYPES):
                self._ws(event, out)
                continue
            if isinstance(event, LAYER_TYPES):
                self._layer(event, out)
                continue
            if isinstance(event, RELOAD_TYPES) and self.reloads.apply(event):
                out.reloads = True
            if isinstance(event, ServerFailed):
                out.failure = event
            elif isinstance(event, ServerStarted):
                out.started.append(event)
            elif isinstance(event, MiddlewareAudit):
                self.audit = audit = event
            elif isinstance(event, ReloadWatching):
                self.watching = watching = event
            elif isinstance(event, LoopBlocked):
                self.blocked = event
            if isinstance(event, CONSOLE_TYPES):
                out.console.append(event)
        return ChangeSet(
            new_items=tuple(out.new),
            updated_items=tuple(out.updated),
            console=tuple(out.console),
            status_changed=out.status,
            failure=out.failure,
            started=tuple(out.started),
            ws_changed=frozenset(out.ws),
            reloads_changed=out.reloads,
            watching_changed=watching is not None,
            audit=audit,
        )

    def _ws(self, event: WsOpened | WsAccepted | WsFrame | WsClosed, out: _Batch) -> None:
        if self.ws.apply(event):
            out.ws.add(event.id)
        if isinstance(event, WsOpened):
            conn = WsConnection(
                id=event.id,
                ts=event.ts,
                path=event.path,
                query=event.query,
                generation=event.generation,
                worker=event.worker,
                worker_pid=event.worker_pid,
                client=event.client,
                request_headers=event.request_headers,
            )
            item = self._add(conn)
            self.ws_rows[event.id] = item
            out.new.append(item)
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
        if item not in out.new:
            out.updated.append(item)

    def _layer(self, event: LayerOp | HandlerRun, out: _Batch) -> None:
        """A layer operation or handler run: the connections' records, the rows' ``layer_ops``,
        and the console for messages dropped (the status counted them as errors)."""
        out.ws |= self.ws.apply_layer(event)
        if isinstance(event, LayerOp) and (event.dropped or event.error):
            out.console.append(event)
        if isinstance(event, HandlerRun) and not event.from_layer:
            return  # a client frame's handler: not channel-layer activity
        if event.conn_id:
            item = self.ws_rows.get(event.conn_id)
            if item is not None:
                item.layer_ops += 1
                if item.layer_ops == 1 and item not in out.new and item not in out.updated:
                    out.updated.append(item)  # it matches the ``layer`` filter from now on
        elif isinstance(event, LayerOp) and event.request_id:
            pending = self._layer_by_request
            if len(pending) >= MAX_PENDING_LAYER:
                pending.clear()
            pending[event.request_id] = pending.get(event.request_id, 0) + 1

    def clear(self) -> None:
        """Forget the log and per-view stats (server totals, WebSocket records, reloads stay)."""
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
