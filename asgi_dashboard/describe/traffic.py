"""Words for the traffic: HTTP requests and WebSocket connections."""

from __future__ import annotations

from ..events import (
    HandlerRun,
    LayerOp,
    RequestFinished,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from ..formatting import ms
from ..sqlgroups import n_plus_one_text
from .base import Description, Segment, describes, entry, error_line

#: Why a request was cut short (``RequestFinished.cancelled``), as the text line says it.
CUT_SHORT = {
    "reload": "cut by a reload: the client got 503 Retry-After",
    "invalid-http": "body was invalid HTTP: Uvicorn answered 400, the app saw a disconnect",
    "client-gone": "client disconnected before a response: nothing was sent",
    "no-response": "the app returned without a response: Uvicorn answered 500",
}


def format_request(e: RequestFinished) -> str:
    """The headless line of a request: target, status, who answered, timings, what went wrong."""
    target = e.path + (f"?{e.query}" if e.query else "")
    if e.static:
        who = "[static]"
    elif e.view:
        who = f"{e.view} [{e.kind}]" + (f" route={e.route!r}" if e.route is not None else "")
        if e.answered_by:
            who += f" answered by {e.answered_by}"
    else:
        who = "(no view)"
    parts = [f"total {ms(e.total_ns, unit=True)}"]
    if e.view_ns is not None:
        parts.append(f"view {ms(e.view_ns, unit=True)}")
    if e.thread_wait_ns is not None:
        parts.append(f"thread wait {ms(e.thread_wait_ns, unit=True)}")
    if e.template_ns:
        parts.append(f"template {ms(e.template_ns, unit=True)}")
    parts.append(f"sql {e.sql_count} ({ms(e.sql_ns, unit=True)})")
    line = f"{e.method} {target} -> {e.status}  {who}  " + ", ".join(parts)
    if e.cancelled:
        line += f"  [{CUT_SHORT.get(e.cancelled, e.cancelled)}]"
    for found in e.n_plus_one:
        line += f"\n    {n_plus_one_text(found)}"
    if e.error is not None:
        line += f"\n    ! {e.error.type}: {e.error.message}"
        if e.error.frame is not None:
            f = e.error.frame
            line += f"\n      at {f.filename}:{f.lineno} `{f.line}`"
        if e.error.hint:
            line += f"\n      hint: {e.error.hint}"
    return line


# -- traffic -----------------------------------------------------------------------------------


@describes(RequestFinished)
def _request(e: RequestFinished) -> Description:
    return Description(format_request(e))


@describes(WsOpened)
def _ws_opened(e: WsOpened) -> Description:
    return Description(f"WS {e.path} [{e.id}] handshake")


@describes(WsAccepted)
def _ws_accepted(e: WsAccepted) -> Description:
    verdict = "accepted" if e.accepted else f"rejected ({e.status})"
    line = f"WS [{e.id}] {verdict} by {e.consumer or '(no consumer)'}"
    if e.url_kwargs:
        line += " " + ", ".join(f"{k}={v}" for k, v in e.url_kwargs)
    return Description(line)


@describes(WsFrame)
def _ws_frame(e: WsFrame) -> Description:
    arrow = "->" if e.direction == "in" else "<-"
    shown = e.preview if not e.binary else f"<binary {e.size} B> {e.preview}"
    return Description(f"WS [{e.id}] {arrow} {shown[:200]}")


@describes(WsClosed, console=True)
def _ws_closed(e: WsClosed) -> Description:
    side = "server (consumer raised)" if e.by == "error" else e.by
    # No close code: the handshake was refused (its HTTP status is in the ws-accepted line).
    how = f"closed by {side} code {e.code}" if e.code is not None else "ended at the handshake"
    line = (
        f"WS [{e.id}] {how} after {ms(e.duration_ns, unit=True)} "
        f"({e.frames_in} in, {e.frames_out} out)"
    ) + error_line(e.error)
    if e.error is None:
        return Description(line)  # a normal close is not console news
    shown = entry(
        "ERROR",
        "error-strong",
        f"WebSocket {e.id} ({e.consumer or '?'}): {e.error.type}: {e.error.message}",
    )
    return Description(line, shown)


# -- channel layer -----------------------------------------------------------------------------


def _who(conn_id: str | None, request_id: str | None) -> str:
    if conn_id:
        return f"WS [{conn_id}]"
    return f"request [{request_id}]" if request_id else "(outside a request)"


def format_layer_op(e: LayerOp) -> str:
    """The headless line of a channel-layer operation (or of messages it dropped)."""
    if e.op == "overflow":
        return f"LAYER {e.layer}: {e.error} ({e.msg_type or 'type unknown'}, {e.dropped} lost)"
    if e.op == "expired":
        owner = f" of WS [{', '.join(e.dropped_conns)}]" if e.dropped_conns else ""
        return f"LAYER {e.channel}{owner}: {e.dropped} message(s) expired unreceived (dropped)"
    target = f"group {e.group}" if e.group is not None else f"channel {e.channel}"
    line = f"LAYER {_who(e.conn_id, e.request_id)} {e.op} {target}"
    if e.msg_type:
        line += f" type={e.msg_type}"
    if e.size is not None and e.op in ("send", "group_send"):
        line += f" {e.size} B"
    if e.recipients is not None:
        line += f" to {e.recipients}"
    line += f" in {ms(e.duration_ns, unit=True)}"
    if e.dropped:
        lost = f" (WS {', '.join(e.dropped_conns)})" if e.dropped_conns else ""
        line += f"  DROPPED {e.dropped}{lost}: {e.error or 'ChannelFull'}"
    elif e.error:
        line += f"  ! {e.error}"
    return line


@describes(LayerOp, console=True)
def _layer_op(e: LayerOp) -> Description:
    line = format_layer_op(e)
    if not (e.dropped or e.error):
        return Description(line)  # a delivered message is not console news
    text = line.removeprefix("LAYER ")
    return Description(line, entry("LAYER", "error-strong", Segment(text, "error")))


@describes(HandlerRun)
def _handler_run(e: HandlerRun) -> Description:
    # Not console news even when it raised: the connection's close (ws-closed) reports it. A
    # client frame's handler with no SQL gets no line (it would double every frame's line),
    # as in the WebSocket panel; --json has every one.
    if not (e.from_layer or e.sql_count or e.error is not None):
        return Description()
    return Description(
        f"HANDLER {_who(e.conn_id, None)} {e.handler or e.msg_type} ({e.msg_type}) "
        f"{ms(e.duration_ns, unit=True)} sql {e.sql_count} ({ms(e.sql_ns, unit=True)})"
        + (f" {e.sync_hops} thread hop(s)" if e.sync_hops else "")
        + error_line(e.error)
    )
