"""The channel layer in the WebSocket panel: a connection's layer operations, handler runs and
lost messages appear between its frames in the server pane (Pilot, an in-loop echo server for
the panel's own session)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog, Static
from websockets.asyncio.server import ServerConnection, serve

from asgi_dashboard.events import (
    Event,
    HandlerRun,
    LayerOp,
    SqlQuery,
    WsAccepted,
    WsFrame,
    WsOpened,
)
from asgi_dashboard.widgets.ws_panel import WebSocketPanel
from asgi_dashboard.wsclient import MARKER_HEADER
from tests.ui.ws_panel_app import PanelApp

T0 = 1_700_000_000.0


async def until(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.02)


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


def pane_lines(app: PanelApp) -> list[str]:
    log = app.query_one("#ws-server-frames", RichLog)
    return [strip.text for strip in log.lines]


def _chat_batch(marker: tuple[tuple[str, str], ...]) -> list[Event]:
    """One chat connection's frames, layer operations and handler runs (out of order on purpose:
    the pane sorts by time), and another connection's message this one lost."""
    return [
        WsOpened(ts=T0, id="1-7", path="/ws/chat/lobby/", request_headers=marker),
        WsAccepted(ts=T0 + 0.1, id="1-7", consumer="demoapp.consumers.ChatConsumer"),
        LayerOp(ts=T0 + 0.05, op="group_add", group="chat_lobby", channel="c!x", conn_id="1-7"),
        WsFrame(ts=T0 + 1, id="1-7", direction="in", size=18, preview='{"message": "hi"}'),
        LayerOp(
            ts=T0 + 1.1,
            op="group_send",
            group="chat_lobby",
            msg_type="chat.message",
            size=54,
            recipients=3,
            duration_ns=120_000,
            conn_id="1-7",
            dropped=1,
            error="ChannelFull",
        ),
        HandlerRun(
            ts=T0 + 1.2,
            conn_id="1-7",
            msg_type="chat.message",
            handler="chat_message",
            from_layer=True,
            duration_ns=300_000,
            sql_count=1,
            sql_ns=100_000,
            sql=(SqlQuery("SELECT 1", 100_000),),
        ),
        # The frame's own handler, without SQL: not drawn (it would double every frame).
        HandlerRun(ts=T0 + 1.15, conn_id="1-7", msg_type="websocket.receive"),
        WsFrame(ts=T0 + 1.3, id="1-7", direction="out", size=40, preview='{"m": "hi"}'),
        # Another connection's message that this one's full channel lost.
        LayerOp(
            ts=T0 + 2,
            op="group_send",
            group="chat_lobby",
            msg_type="chat.message",
            conn_id="1-8",
            dropped=1,
            dropped_conns=("1-7",),
            error="ChannelFull",
        ),
    ]


async def test_layer_operations_appear_beside_the_frames(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(160, 48)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: panel.current is not None and panel.current.state == "open")
        session = panel.current
        assert session is not None
        marker = ((MARKER_HEADER, session.id),)
        batch = _chat_batch(marker)
        panel.show_changes(app.model.ingest(batch))
        await pilot.pause()
        lines = [line for line in pane_lines(app) if line.strip()]
        joined = "\n".join(lines)
        order = [
            "+ group_add chat_lobby",
            "consumer received",
            "⇉ group_send chat_lobby chat.message",
            "⚙ chat_message",
            "consumer sent",
            "✖ layer a chat.message from 1-8 was dropped",
        ]
        positions = [next(i for i, line in enumerate(lines) if want in line) for want in order]
        assert positions == sorted(positions), joined
        at = next(i for i, line in enumerate(lines) if "⇉ group_send" in line)
        send = lines[at] + lines[at + 1]  # the pane is half the width: the line wraps
        assert "54 B" in send and "to 3" in send and "DROPPED 1: ChannelFull" in send
        handler = next(line for line in lines if "⚙ chat_message" in line)
        assert "sql 1" in handler
        assert "websocket_receive" not in joined
        summary = str(app.query_one("#ws-server-summary", Static).render())
        assert "layer 2 ops, 2 dropped" in summary
