"""The channel layer in the WebSocket panel's server pane: a connection's layer operations and
handler runs, between its frames in time order.

Shown: every ``LayerOp`` the consumer made (``⇉`` group_send/send, ``+``/``-`` group_add and
group_discard) and every message it lost (in the error colour, with the reason); every handler
run of a channel-layer message (``⚙ chat_message 0.2 ms sql 1``). A client frame's handler
(``websocket.receive``) is shown only when it issued SQL or raised: otherwise it would double
every frame line. Pure rendering of :class:`~asgi_dashboard.model.ServerConnection` data.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from rich.text import Text

from ..events import HandlerRun, LayerOp, WsFrame
from ..formatting import clock, duration, size
from ..model import ServerConnection
from ..model.ws import LOSSES
from .palette import Palette

_MARKS = {"send": "⇉", "group_send": "⇉", "group_add": "+", "group_discard": "-"}


def shown(event: LayerOp | HandlerRun) -> bool:
    """Whether the server pane draws the event (see the module docstring)."""
    if isinstance(event, LayerOp):
        return True
    return event.from_layer or event.sql_count > 0 or event.error is not None


def timeline(conn: ServerConnection) -> Iterator[WsFrame | LayerOp | HandlerRun]:
    """The connection's frames and shown layer events, in time order (both are in order)."""
    layer = (e for e in conn.layer if shown(e))
    return heapq.merge(conn.frames, layer, key=lambda e: e.ts)


def _lost(op: LayerOp, conn_id: str) -> str:
    if op.op in LOSSES:
        return f"{op.dropped} message(s) for this consumer expired unreceived (dropped)"
    if conn_id != op.conn_id:
        origin = f"from {op.conn_id}" if op.conn_id else "from outside a connection"
        return f"a {op.msg_type or 'message'} {origin} was dropped: its channel was full"
    return f"DROPPED {op.dropped}: {op.error or 'ChannelFull'}"


def render_layer_op(op: LayerOp, conn_id: str, palette: Palette) -> Text:
    """One layer operation (or a loss) as one line of the server pane."""
    out = Text.assemble((clock(op.ts), palette.muted), " ")
    if op.op in LOSSES or (op.dropped and conn_id != op.conn_id):
        out.append("✖ layer ", style=f"bold {palette.error}")
        out.append(_lost(op, conn_id), style=palette.error)
        return out
    target = op.group if op.group is not None else (op.channel or "")
    out.append(f"{_MARKS.get(op.op, '•')} {op.op}", style=f"bold {palette.accent}")
    out.append(f" {target}")
    if op.msg_type:
        out.append(f" {op.msg_type}", style=palette.accent)
    details = []
    if op.size is not None and op.op in ("send", "group_send"):
        details.append(size(op.size))
    if op.recipients is not None:
        details.append(f"to {op.recipients}")
    details.append(duration(op.duration_ns))
    out.append("  " + "  ".join(details), style=palette.muted)
    if op.dropped:
        out.append(f"  {_lost(op, conn_id)}", style=f"bold {palette.error}")
    elif op.error:
        out.append(f"  {op.error}", style=palette.error)
    return out


def render_handler_run(run: HandlerRun, palette: Palette) -> Text:
    """One handler run: the method, its time, its SQL (and the error it raised)."""
    colour = palette.error if run.error is not None else palette.primary
    out = Text.assemble(
        (clock(run.ts), palette.muted),
        " ",
        (f"⚙ {run.handler or run.msg_type}", f"bold {colour}"),
        (f"  {duration(run.duration_ns)}", palette.muted),
    )
    if run.sql_count:
        out.append(f"  sql {run.sql_count} ({duration(run.sql_ns)})", style=palette.warning)
    if run.error is not None:
        out.append(f"  {run.error.type}: {run.error.message}", style=palette.error)
    return out


def layer_summary(conn: ServerConnection, palette: Palette) -> Text | None:
    """``layer 12 ops, 1 dropped`` for the pane's header; None when the layer was not used."""
    if not conn.layer_ops and not conn.layer_drops:
        return None
    out = Text(f"layer {conn.layer_ops} ops", style=palette.muted)
    if conn.layer_drops:
        out.append(f", {conn.layer_drops} dropped", style=f"bold {palette.error}")
    return out


__all__ = ["layer_summary", "render_handler_run", "render_layer_op", "shown", "timeline"]
