"""The server side of WebSocket connections, as the panel shows it beside the client's frames.

Pure Python (no Textual). :class:`~asgi_dashboard.model.dashboard.Dashboard` hands each Ws* event
to :meth:`ServerRecords.apply` in the same pass that updates the connection's log row; it folds
``WsOpened`` / ``WsAccepted`` / ``WsFrame`` / ``WsClosed`` events into one
:class:`ServerConnection` per connection id, bounded in connections and in frames per
connection, and links a connection to the panel's client session through the marker header the
client sends (:data:`asgi_dashboard.wsclient.MARKER_HEADER`, seen in ``WsOpened.request_headers``).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..events import Event, HandlerRun, LayerOp, WsAccepted, WsClosed, WsFrame, WsOpened
from ..wsclient_data import MARKER_HEADER

#: Connections remembered (oldest forgotten first).
MAX_CONNECTIONS = 300
#: Server-side frames kept per connection.
MAX_FRAMES = 500
#: Channel-layer operations and handler runs kept per connection.
MAX_LAYER = 500
#: Layer events that are losses found by a call, not calls: not the caller's operations.
LOSSES = ("expired", "overflow")
#: What the channel-layer tap reports (instrument/layer.py, instrument/handlers.py).
LayerEvent = LayerOp | HandlerRun


@dataclass(slots=True)
class ServerConnection:
    """Everything the server reported about one connection so far."""

    opened: WsOpened
    accepted: WsAccepted | None = None
    closed: WsClosed | None = None
    frames: deque[WsFrame] = field(default_factory=lambda: deque(maxlen=MAX_FRAMES))
    #: The panel session that opened it (from the marker header), or None (a browser, a script).
    client_id: str | None = None
    #: Its channel-layer operations and handler runs (and messages it lost), oldest first.
    layer: deque[LayerEvent] = field(default_factory=lambda: deque(maxlen=MAX_LAYER))
    #: Totals beyond the bounded deque: operations made, messages lost (sent or meant for it).
    layer_ops: int = 0
    layer_drops: int = 0

    @property
    def id(self) -> str:
        return self.opened.id

    @property
    def state(self) -> str:
        if self.accepted is None:
            return "handshake"
        if not self.accepted.accepted:
            return f"rejected {self.accepted.status or ''}".strip()
        if self.closed is None:
            return "open"
        return "crashed" if self.closed.error is not None else "closed"


def _lost_by(event: LayerOp, conn_id: str) -> int:
    """Messages ``event`` lost that count against ``conn_id``: all of them for the connection
    that sent them, one per recipient connection (all for the owner of an expired channel)."""
    if event.op in LOSSES:
        return event.dropped if conn_id in event.dropped_conns else 0
    if conn_id == event.conn_id:
        return event.dropped
    return 1 if conn_id in event.dropped_conns else 0


class ServerRecords:
    """Connections by server id, and the latest one per client session id."""

    def __init__(self, max_connections: int = MAX_CONNECTIONS) -> None:
        self.max_connections = max_connections
        self.connections: OrderedDict[str, ServerConnection] = OrderedDict()
        self._by_client: dict[str, str] = {}
        #: Every connection a client session opened, oldest first (a reconnect is a new one).
        self._history: dict[str, list[str]] = {}

    def ingest(self, events: Iterable[Event]) -> set[str]:
        """Apply events; the ids of the connections that changed."""
        changed: set[str] = set()
        for event in events:
            if isinstance(event, WsOpened | WsAccepted | WsFrame | WsClosed):
                if self.apply(event):
                    changed.add(event.id)
            elif isinstance(event, LayerOp | HandlerRun):
                changed |= self.apply_layer(event)
        return changed

    def apply(self, event: WsOpened | WsAccepted | WsFrame | WsClosed) -> bool:
        """Apply one event; False when it belongs to a connection not (or no longer) known."""
        if isinstance(event, WsOpened):
            client_id = next(
                (v for k, v in event.request_headers if k.lower() == MARKER_HEADER), None
            )
            self.connections[event.id] = ServerConnection(event, client_id=client_id)
            if client_id:
                self._by_client[client_id] = event.id
                self._history.setdefault(client_id, []).append(event.id)
            while len(self.connections) > self.max_connections:
                _, old = self.connections.popitem(last=False)
                self._forget(old)
            return True
        conn = self.connections.get(event.id)
        if conn is None:
            return False  # opened before we started listening, or already forgotten
        if isinstance(event, WsAccepted):
            conn.accepted = event
        elif isinstance(event, WsFrame):
            conn.frames.append(event)
        else:
            conn.closed = event
        return True

    def apply_layer(self, event: LayerEvent) -> set[str]:
        """Attach a layer operation or handler run to the connections it concerns: the one that
        made it, and the ones that lost a message by it; the ids of those known."""
        ids: list[str] = []
        if event.conn_id and not (isinstance(event, LayerOp) and event.op in LOSSES):
            ids.append(event.conn_id)  # (an expiry is found by whoever cleaned: not theirs)
        if isinstance(event, LayerOp):
            ids += [c for c in event.dropped_conns if c not in ids]
        changed: set[str] = set()
        for conn_id in ids:
            conn = self.connections.get(conn_id)
            if conn is None:
                continue
            conn.layer.append(event)
            if isinstance(event, LayerOp):
                conn.layer_drops += _lost_by(event, conn_id)
                if conn_id == event.conn_id and event.op not in LOSSES:
                    conn.layer_ops += 1
            changed.add(conn_id)
        return changed

    def _forget(self, old: ServerConnection) -> None:
        if not old.client_id:
            return
        if self._by_client.get(old.client_id) == old.id:
            del self._by_client[old.client_id]
        ids = self._history.get(old.client_id)
        if ids is not None and old.id in ids:
            ids.remove(old.id)
            if not ids:
                del self._history[old.client_id]

    def history_for_client(self, client_id: str) -> list[ServerConnection]:
        """Every remembered connection the session ``client_id`` opened, oldest first.

        A consumer crash followed by an automatic reconnect leaves two entries: the crashed
        one (close code, side, traceback) stays visible beside the new one.
        """
        ids = self._history.get(client_id, [])
        return [self.connections[i] for i in ids if i in self.connections]

    def for_client(self, client_id: str) -> ServerConnection | None:
        """The newest server-side connection opened by the panel session ``client_id``."""
        server_id = self._by_client.get(client_id)
        return self.connections.get(server_id) if server_id else None

    def others(self) -> list[ServerConnection]:
        """Connections the panel did not open (browsers, scripts), newest first."""
        return [c for c in reversed(self.connections.values()) if c.client_id is None]
