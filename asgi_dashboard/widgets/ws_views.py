"""The two frame views of the WebSocket panel: the client's log and the server's record.

Both read the same way: ``→`` is client to server, ``←`` server to client, so a frame and its
server-side twin line up. Rendering is bounded: only the newest :data:`SHOWN_FRAMES` are
redrawn when the view switches session, and JSON is pretty-printed only for small documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from ..events import LayerOp, WsFrame
from ..formatting import clock, duration, size
from ..model import ServerConnection
from ..wsframes import FrameRecord, pretty_json
from .palette import Palette
from .ws_layer import layer_summary, render_handler_run, render_layer_op, timeline

#: Frames redrawn when a view is rebuilt (a session switch); the session keeps more.
SHOWN_FRAMES = 300
#: Connections of one session drawn in the server pane (the newest ones).
SHOWN_SEGMENTS = 5
#: JSON documents up to this many characters are pretty-printed and highlighted.
PRETTY_LIMIT = 8 * 1024
#: JSON documents up to this many characters stay on one (highlighted) line.
INLINE_JSON = 72

ARROWS = {"out": "→", "in": "←", "info": "•"}


def _detail(record: FrameRecord) -> str:
    if record.kind == "close":
        side = "from server" if record.direction == "in" else "from client"
        reason = f" {record.preview!r}" if record.preview else ""
        return f"code {record.code}{reason} {side}"
    if record.kind == "pong":
        return f"rtt {duration(record.rtt_ns)}"
    if record.kind in ("ping", "error", "note"):
        return ""
    return size(record.size) + (" (preview cut)" if record.truncated else "")


def render_frame(record: FrameRecord, palette: Palette) -> RenderableType:
    """One client frame: a header line, then the payload (pretty JSON when it is JSON)."""
    colour = {"out": palette.primary, "in": palette.success, "info": palette.muted}[
        record.direction
    ]
    if record.kind in ("close", "error"):
        colour = palette.error if record.kind == "error" else palette.warning
    head = Text.assemble(
        (clock(record.ts), palette.muted),
        " ",
        (ARROWS[record.direction], f"bold {colour}"),
        " ",
        (record.kind, colour),
        " ",
        (_detail(record), palette.muted),
    )
    if record.kind == "note":
        return Text.assemble(
            (clock(record.ts), palette.muted), " ", (f"── {record.preview}", f"bold {colour}")
        )
    if record.kind in ("ping", "pong", "close"):
        return head
    if record.is_json and len(record.preview) <= INLINE_JSON:
        line = JSON(record.preview, indent=None).text  # one line (wrapped): rows are scarce
        line.no_wrap, line.overflow = False, "fold"
        return Group(head, line)
    if record.is_json and len(record.preview) <= PRETTY_LIMIT:
        return Group(head, JSON(pretty_json(record.json)))
    body = record.preview
    if record.kind == "binary":
        body = f"hex {body}" + (" …" if record.truncated else "")
    return Group(head, Text(body, style="" if record.kind != "error" else palette.error))


def render_server_frame(frame: WsFrame, palette: Palette) -> RenderableType:
    colour = palette.primary if frame.direction == "in" else palette.success
    arrow = "→" if frame.direction == "in" else "←"
    what = "received" if frame.direction == "in" else "sent"
    head = Text.assemble(
        (clock(frame.ts), palette.muted),
        " ",
        (arrow, f"bold {colour}"),
        " ",
        (f"consumer {what}", colour),
        " ",
        (size(frame.size) + (" (preview cut)" if frame.truncated else ""), palette.muted),
    )
    body = f"hex {frame.preview}" if frame.binary else frame.preview
    return Group(head, Text(body))


def close_summary(conn: ServerConnection) -> str:
    """How the connection ended, as on the wire: HTTP status for a rejected handshake, the
    close code and the side that sent it otherwise ("consumer raised" for a crash)."""
    acc = conn.accepted
    if acc is not None and not acc.accepted:
        return f"handshake rejected: HTTP {acc.status or 403}"
    c = conn.closed
    if c is None:
        return "open" if acc is not None else "handshake"
    side = {"client": "client", "server": "server", "error": "server (consumer raised)"}[c.by]
    code = f"{c.code}" if c.code is not None else "no code"
    text = f"close {code} by {side}" + (f" {c.reason!r}" if c.reason else "")
    return text + f"  {duration(c.duration_ns)}  in {c.frames_in} / out {c.frames_out}"


def describe_server(conn: ServerConnection | None, palette: Palette, segments: int = 1) -> Text:
    """Header of the server pane (two lines): path, consumer, kwargs; state and how it ended."""
    if conn is None:
        return Text(
            "No server-side record yet: it appears when this connection reaches the "
            "dashboard's server.",
            style=palette.muted,
        )
    out = Text()
    out.append(f"{conn.opened.path}", style="bold")
    acc = conn.accepted
    consumer = (acc.consumer if acc else None) or (conn.closed.consumer if conn.closed else None)
    out.append(f"  {(consumer or '(consumer not reached)').rsplit('.', 1)[-1]}")
    if acc and acc.url_kwargs:
        kwargs = ", ".join(f"{k}={v}" for k, v in acc.url_kwargs)
        out.append(f"  {kwargs}", style=palette.muted)
    out.append(f"  id {conn.id} gen {conn.opened.generation}", style=palette.muted)
    if conn.opened.worker:  # --workers N: the server process the connection landed on
        out.append(f"  worker {conn.opened.worker} (pid {conn.opened.worker_pid})", style="bold")
    state = conn.state
    colour = {"open": palette.success, "handshake": palette.muted, "closed": palette.muted}.get(
        state, palette.error
    )
    out.append("\n")
    out.append(state, style=f"bold {colour}")
    if conn.closed is not None or state.startswith("rejected"):
        out.append(f"  {close_summary(conn)}", style=palette.muted)
    if segments > 1:
        out.append(f"  connection {segments} of {segments}", style=palette.muted)
    layer = layer_summary(conn, palette)
    if layer is not None:
        out.append("  ")
        out.append_text(layer)
    return out


def render_segment_head(conn: ServerConnection, index: int, total: int, palette: Palette) -> Text:
    """The separator that starts one connection of a session's history (a reconnect is new)."""
    label = "connection" if index == 1 else "reconnected: connection"
    return Text(
        f"── {clock(conn.opened.ts)} {label} {index} of {total} · {conn.id}",
        style=f"bold {palette.muted}",
    )


def render_segment_end(conn: ServerConnection, palette: Palette) -> list[RenderableType]:
    """How one connection ended, and the consumer's traceback when it raised."""
    out: list[RenderableType] = []
    if conn.closed is None and conn.state == "open":
        return out
    colour = palette.error if conn.state != "closed" else palette.warning
    when = clock(conn.closed.ts) if conn.closed is not None else clock(conn.opened.ts)
    out.append(Text.assemble((when, palette.muted), " ", (close_summary(conn), colour)))
    error = conn.closed.error if conn.closed else None
    if error is not None:
        # The client only sees the socket drop (1006) and the server logs little: show it here.
        out.append(Text(f"{error.type}: {error.message}", style=f"bold {palette.error}"))
        if error.hint:
            out.append(Text(f"hint: {error.hint}", style=palette.warning))
        out.append(Text(error.traceback, style=palette.muted))
    return out


class FrameLog(RichLog):
    """The client session's frames, newest at the bottom."""

    def show(self, frames: Iterable[FrameRecord], palette: Palette) -> None:
        self.clear()
        for record in list(frames)[-SHOWN_FRAMES:]:
            self.write(render_frame(record, palette))

    def add(self, record: FrameRecord, palette: Palette) -> None:
        self.write(render_frame(record, palette))


class ServerSideView(Vertical):
    """The server's record of the linked connection: summary, consumer error, frames."""

    def compose(self) -> ComposeResult:
        yield Static(id="ws-server-summary")
        yield RichLog(id="ws-server-frames", wrap=True, markup=False, min_width=1)

    def show(self, history: Sequence[ServerConnection], palette: Palette) -> None:
        """A session's connections, oldest first; each one's frames, close and traceback."""
        latest = history[-1] if history else None
        summary = describe_server(latest, palette, len(history))
        crashed = [(i, c) for i, c in enumerate(history[:-1], 1) if c.state == "crashed"]
        if crashed:  # the traceback is further up the log: say so where it is always seen
            index, conn = crashed[-1]
            error = conn.closed.error if conn.closed else None
            what = f"{error.type.rsplit('.', 1)[-1]}: {error.message}" if error else "crashed"
            summary.append(f"\n#{index} crashed: {what} (above)", style=palette.error)
        self.query_one("#ws-server-summary", Static).update(summary)
        log = self.query_one("#ws-server-frames", RichLog)
        log.clear()
        shown = list(history)[-SHOWN_SEGMENTS:]
        first = len(history) - len(shown) + 1
        for index, conn in enumerate(shown, first):
            if len(history) > 1:
                log.write(render_segment_head(conn, index, len(history), palette))
            # Frames with the consumer's channel-layer operations and handler runs between
            # them, in time order (widgets/ws_layer.py).
            for item in list(timeline(conn))[-SHOWN_FRAMES:]:
                if isinstance(item, WsFrame):
                    log.write(render_server_frame(item, palette))
                elif isinstance(item, LayerOp):
                    log.write(render_layer_op(item, conn.id, palette))
                else:
                    log.write(render_handler_run(item, palette))
            for line in render_segment_end(conn, palette):
                log.write(line)
