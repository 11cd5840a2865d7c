"""The two frame views of the WebSocket panel: the client's log and the server's record.

Both read the same way: ``→`` is client to server, ``←`` server to client, so a frame and its
server-side twin line up. Rendering is bounded: only the newest :data:`SHOWN_FRAMES` are
redrawn when the view switches session, and JSON is pretty-printed only for small documents.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group, RenderableType
from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from ..events import WsFrame
from ..formatting import clock, duration, size
from ..wsframes import FrameRecord, pretty_json
from .palette import Palette
from ..model import ServerConnection

#: Frames redrawn when a view is rebuilt (a session switch); the session keeps more.
SHOWN_FRAMES = 300
#: JSON documents up to this many characters are pretty-printed and highlighted.
PRETTY_LIMIT = 8 * 1024

ARROWS = {"out": "→", "in": "←", "info": "•"}


def _detail(record: FrameRecord) -> str:
    if record.kind == "close":
        return f"code {record.code}" + (f" {record.preview!r}" if record.preview else "")
    if record.kind == "pong":
        return f"rtt {duration(record.rtt_ns)}"
    if record.kind == "ping":
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
    if record.kind in ("ping", "pong", "close"):
        return head
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


def describe_server(conn: ServerConnection | None, palette: Palette) -> Text:
    """Header of the server pane: consumer, URL kwargs, outcome, close, duration."""
    if conn is None:
        return Text(
            "No server-side record yet: it appears when this connection reaches the "
            "dashboard's server.",
            style=palette.muted,
        )
    out = Text()
    out.append(f"{conn.opened.path}", style="bold")
    out.append(f"  id {conn.id}  gen {conn.opened.generation}\n", style=palette.muted)
    acc = conn.accepted
    consumer = (acc.consumer if acc else None) or (conn.closed.consumer if conn.closed else None)
    out.append("consumer ", style=palette.muted)
    out.append(consumer or "(not reached)")
    if acc and acc.url_kwargs:
        kwargs = ", ".join(f"{k}={v}" for k, v in acc.url_kwargs)
        out.append(f"  kwargs {kwargs}", style=palette.muted)
    state = conn.state
    colour = {"open": palette.success, "handshake": palette.muted, "closed": palette.muted}.get(
        state, palette.error
    )
    out.append("\nstate ", style=palette.muted)
    out.append(state, style=f"bold {colour}")
    if conn.closed is not None:
        c = conn.closed
        out.append(
            f"  code {c.code} by {c.by}" + (f" {c.reason!r}" if c.reason else ""),
            style=palette.muted,
        )
        out.append(f"  {duration(c.duration_ns)}  in {c.frames_in} / out {c.frames_out}")
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
        yield RichLog(id="ws-server-frames", wrap=True, markup=False)

    def show(self, conn: ServerConnection | None, palette: Palette) -> None:
        self.query_one("#ws-server-summary", Static).update(describe_server(conn, palette))
        log = self.query_one("#ws-server-frames", RichLog)
        log.clear()
        if conn is None:
            return
        for frame in list(conn.frames)[-SHOWN_FRAMES:]:
            log.write(render_server_frame(frame, palette))
        error = conn.closed.error if conn.closed else None
        if error is not None:
            # Channels closes with 1011 and logs nothing useful (channels#1383): show it here.
            log.write(Text(f"{error.type}: {error.message}", style=f"bold {palette.error}"))
            if error.hint:
                log.write(Text(f"hint: {error.hint}", style=palette.warning))
            log.write(Text(error.traceback, style=palette.muted))
