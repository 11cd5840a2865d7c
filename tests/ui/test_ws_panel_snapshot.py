"""Snapshot of the WebSocket panel with fixed frames and a fixed server-side record."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from asgi_dashboard.events import WsAccepted, WsFrame, WsOpened
from asgi_dashboard.widgets.ws_panel import WebSocketPanel
from asgi_dashboard.wsclient import MARKER_HEADER, HandshakeResult
from asgi_dashboard.wsframes import frame_record
from tests.ui.ws_panel_app import PanelApp

T0 = 1_700_000_000.0  # fixed wall time for every frame
URL = "ws://127.0.0.1:8000/ws/chat/lobby/"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def fill(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, PanelApp)
    panel = app.query_one(WebSocketPanel)
    app.query_one("#ws-url", Input).value = URL
    session = panel.new_session()
    session.options.url = URL
    # Scripted, not connected: the session reports what a real connection would have.
    session._notify(HandshakeResult("accepted", "Accepted.", URL, status=101, ts=T0))
    session._set_state("open", "Accepted.")
    for record in (
        frame_record(1, "out", "text", '{"message": "hi all"}', ts=T0 + 1),
        frame_record(
            2, "in", "text", '{"message": "hi all", "user": "carol", "room": "lobby"}', ts=T0 + 1.01
        ),
        frame_record(3, "out", "binary", bytes.fromhex("cafe0001"), ts=T0 + 2),
        frame_record(4, "out", "ping", ts=T0 + 3),
        frame_record(5, "in", "pong", rtt_ns=420_000, ts=T0 + 3.0004),
    ):
        session._notify(record)
    panel.show_changes(
        app.model.ingest(
            [
                WsOpened(
                    ts=T0,
                    id="1-7",
                    path="/ws/chat/lobby/",
                    request_headers=((MARKER_HEADER, session.id),),
                ),
                WsAccepted(
                    ts=T0,
                    id="1-7",
                    consumer="demoapp.consumers.ChatConsumer",
                    url_kwargs=(("room", "lobby"),),
                ),
                WsFrame(
                    ts=T0 + 1, id="1-7", direction="in", size=21, preview='{"message": "hi all"}'
                ),
                WsFrame(
                    ts=T0 + 1.01,
                    id="1-7",
                    direction="out",
                    size=55,
                    preview='{"message": "hi all", "user": "carol", "room": "lobby"}',
                ),
                WsFrame(
                    ts=T0 + 2, id="1-7", direction="in", size=4, binary=True, preview="ca fe 00 01"
                ),
            ]
        )
    )
    app.query_one("#ws-message", TextArea).text = '{"message": "hi all"}'
    await pilot.pause()


def test_ws_panel_with_fixed_frames(snap_compare: Any) -> None:
    assert snap_compare(PanelApp(), terminal_size=(130, 42), run_before=fill)
