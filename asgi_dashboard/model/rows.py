"""Request log rows: HTTP requests and WebSocket connections in one shape (:class:`LogItem`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..events import ExceptionInfo, Header, NPlusOne, RequestFinished

Badge = Literal["sync", "async", "ws", "static", "-"]
#: Log row order: as requests finish (arrival, the default: new rows only ever append), or by
#: the time they started (a fan-out view above its own sub-requests).
LogOrder = Literal["finish", "start"]


@dataclass(slots=True)
class WsConnection:
    """A WebSocket connection as one log row, completed as its events arrive."""

    id: str
    ts: float
    path: str
    query: str = ""
    generation: int = 0
    #: The server process it landed on (``WsOpened.worker``/``worker_pid``; 0: one process).
    worker: int = 0
    worker_pid: int = 0
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
    #: Channel-layer operations the request's view or the connection's consumer made, and
    #: layer messages its handlers ran (instrument/layer.py): the ``layer`` filter term.
    layer_ops: int = 0

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
    def worker(self) -> int:
        """The worker index that served it (``--workers N``); 0 for a single server process."""
        return self.entry.worker

    @property
    def worker_pid(self) -> int:
        return self.entry.worker_pid

    @property
    def n_plus_one(self) -> tuple[NPlusOne, ...]:
        """The request's N+1 patterns (flagged by the server: ``--n-plus-one``); () for none."""
        e = self.entry
        return () if isinstance(e, WsConnection) else e.n_plus_one

    @property
    def is_error(self) -> bool:
        """A server error: an exception was raised, or the status is 5xx (not a request a
        reload cut short: its 503 is the server restarting, not the view failing)."""
        e = self.entry
        if isinstance(e, WsConnection):
            return e.error is not None or e.by == "error"
        return e.error is not None or (e.status >= 500 and e.cancelled is None)


def start_key(item: LogItem) -> tuple[float, int]:
    """Sort key for start-time order (``ts`` is when a request started or a socket opened)."""
    return (item.entry.ts, item.seq)


def in_order(items: list[LogItem], order: LogOrder) -> list[LogItem]:
    """``items`` (given in finish order) in the requested order."""
    return sorted(items, key=start_key) if order == "start" else items


#: The demo's views worth a first look, with what each shows (the demo's urls.py).
DEMO_TOUR = (
    ("orm/n-plus-one/", "an N+1 query pattern (sql column)"),
    ("orm/unsafe/", "the SynchronousOnlyOperation hint"),
    ("fanout/", "an async view calling two others"),
    ("blocking/", "a view that blocks the event loop"),
    ("error/", "a traceback (Enter opens it)"),
    ("chat/lobby/", "a WebSocket chat (tab 4)"),
)


def empty_log_hint(url: str | None, *, is_demo: bool) -> list[str]:
    """Lines to show while the log has never had a request: where to send one."""
    if not url:
        return ["No requests yet: waiting for the server to start."]
    base = url.rstrip("/") + "/"
    lines = [
        f"No requests yet. Open {base} in a browser, or try:",
        f"  curl -i {base}",
    ]
    if is_demo:
        lines.append("The demo's interesting views:")
        width = max(len(base + path) for path, _ in DEMO_TOUR)
        lines += [f"  {(base + path).ljust(width)}  {what}" for path, what in DEMO_TOUR]
    return lines
