"""The channel layer in the model (no Textual): per-connection records, the log rows' layer
count and the ``layer`` filter term, drops counted as errors in the status and the console, and
the headless/console wording."""

from __future__ import annotations

from asgi_dashboard.describe import describe
from asgi_dashboard.events import HandlerRun, LayerOp, RequestFinished, WsOpened
from asgi_dashboard.filters import FilterError, parse
from asgi_dashboard.model import Dashboard


def _chat() -> list[object]:
    return [
        WsOpened(id="1-1", path="/ws/chat/lobby/"),
        WsOpened(id="1-2", path="/ws/chat/lobby/"),
        WsOpened(id="1-3", path="/ws/echo/"),
        LayerOp(op="group_add", group="chat_lobby", channel="a", conn_id="1-1"),
        LayerOp(op="group_add", group="chat_lobby", channel="b", conn_id="1-2"),
        LayerOp(
            op="group_send",
            group="chat_lobby",
            msg_type="chat.message",
            conn_id="1-1",
            recipients=2,
            dropped=1,
            dropped_conns=("1-2",),
            error="ChannelFull",
        ),
        HandlerRun(conn_id="1-1", msg_type="chat.message", handler="chat_message", from_layer=True),
        HandlerRun(conn_id="1-3", msg_type="websocket.receive", handler="websocket_receive"),
        LayerOp(op="group_send", group="news", msg_type="news.item", request_id="1-4", size=10),
        RequestFinished(id="1-4", method="POST", path="/publish/", status=200),
        RequestFinished(id="1-5", method="GET", path="/", status=200),
        LayerOp(op="expired", channel="b", dropped=3, dropped_conns=("1-2",), conn_id="1-1"),
    ]


def test_connections_keep_their_layer_events_and_losses() -> None:
    model = Dashboard()
    changes = model.ingest(_chat())  # type: ignore[arg-type]
    alice, bob, echo = (model.ws.connections[i] for i in ("1-1", "1-2", "1-3"))
    assert {"1-1", "1-2", "1-3"} <= changes.ws_changed
    assert [type(e).__name__ for e in alice.layer] == ["LayerOp", "LayerOp", "HandlerRun"]
    assert (alice.layer_ops, alice.layer_drops) == (2, 1)  # it sent the message that was lost
    # bob lost that one and three expired ones; the expiry is not alice's although her
    # receive found it.
    assert (bob.layer_ops, bob.layer_drops) == (1, 4)
    assert [e.op for e in bob.layer if isinstance(e, LayerOp)] == [
        "group_add",
        "group_send",
        "expired",
    ]
    assert (echo.layer_ops, echo.layer_drops, len(echo.layer)) == (0, 0, 1)


def test_the_layer_filter_shows_rows_that_used_the_layer() -> None:
    model = Dashboard()
    model.ingest(_chat())  # type: ignore[arg-type]
    layer = parse("layer")
    shown = [i.entry.path for i in model.history if layer.matches(i)]
    # The chat connections and the view that published; not the echo (a frame handler only)
    # nor the plain page.
    assert shown == ["/ws/chat/lobby/", "/ws/chat/lobby/", "/publish/"]
    hidden = parse("-layer")
    assert [i.entry.path for i in model.history if hidden.matches(i)] == ["/ws/echo/", "/"]
    quoted = parse('"layer"')  # the text "layer" in a path or view, not the flag
    assert [i for i in model.history if quoted.matches(i)] == []


def test_layer_is_a_flag_not_a_field() -> None:
    try:
        parse("layer:x")
    except FilterError as exc:
        assert "unknown field" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("layer:x should be refused")


def test_drops_are_errors_in_the_status_and_the_console() -> None:
    model = Dashboard()
    changes = model.ingest(_chat())  # type: ignore[arg-type]
    assert model.status.errors == 2 and model.status.layer_drops == 4
    consoled = [e for e in changes.console if isinstance(e, LayerOp)]
    assert [e.op for e in consoled] == ["group_send", "expired"]
    entry = describe(consoled[0]).entry
    assert entry is not None and entry.tag.text == "LAYER" and entry.tag.role == "error-strong"
    assert "DROPPED 1 (WS 1-2): ChannelFull" in entry.plain
    assert describe(consoled[1]).line == (
        "LAYER b of WS [1-2]: 3 message(s) expired unreceived (dropped)"
    )


def test_headless_lines() -> None:
    op = LayerOp(
        op="group_send",
        group="g",
        msg_type="a.b",
        size=54,
        recipients=2,
        duration_ns=1_500_000,
        request_id="1-9",
    )
    assert (
        describe(op).line == "LAYER request [1-9] group_send group g type=a.b 54 B to 2 in 1.5 ms"
    )
    assert describe(op).entry is None  # delivered: not console news
    run = HandlerRun(conn_id="1-1", msg_type="chat.message", handler="chat_message", sql_count=2)
    assert (
        describe(run).line == "HANDLER WS [1-1] chat_message (chat.message) 0.0 ms sql 2 (0.0 ms)"
    )


def test_a_frame_handler_without_sql_gets_no_headless_line() -> None:
    quiet = HandlerRun(conn_id="1-1", msg_type="websocket.receive", handler="websocket_receive")
    assert describe(quiet).line is None
    busy = HandlerRun(conn_id="1-1", msg_type="websocket.receive", sql_count=1)
    assert describe(busy).line is not None


def test_a_receive_buffer_overflow_is_an_error_of_no_connection() -> None:
    model = Dashboard()
    lost = LayerOp(
        op="overflow",
        layer="RedisChannelLayer",
        msg_type="chat.message",
        conn_id="1-1",  # whose receive found it, not whose message it was
        dropped=1,
        error="receive buffer full: channels_redis dropped the oldest message",
    )
    changes = model.ingest([WsOpened(id="1-1", path="/ws/chat/x/"), lost])
    assert model.status.errors == 1 and changes.console == (lost,)
    conn = model.ws.connections["1-1"]
    assert (conn.layer_ops, conn.layer_drops, len(conn.layer)) == (0, 0, 0)
    assert describe(lost).line == (
        "LAYER RedisChannelLayer: receive buffer full: channels_redis dropped the oldest "
        "message (chat.message, 1 lost)"
    )
