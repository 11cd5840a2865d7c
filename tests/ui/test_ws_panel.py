"""Pilot tests for the WebSocket panel, against an in-loop websockets server (no processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea
from websockets.asyncio.server import ServerConnection, serve

from asgi_dashboard.events import WsAccepted, WsClosed, WsFrame, WsOpened
from asgi_dashboard.runtime.tools import RouteParam, WsRoute
from asgi_dashboard.widgets.ws_panel import WebSocketPanel
from asgi_dashboard.wsclient import MARKER_HEADER
from tests.ui.ws_panel_app import PanelApp


async def until(pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await pilot.pause(0.02)


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    """A tiny echo server in the test's own loop: text gets "echo: " in front."""

    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(f"echo: {message}" if isinstance(message, str) else message)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}"


def text_of(app: PanelApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def connect(pilot: Pilot[None], panel: WebSocketPanel) -> None:
    await pilot.press("ctrl+o")
    await until(pilot, lambda: panel.current is not None and panel.current.state == "open")


async def test_connect_send_and_see_the_reply(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        assert app.query_one("#ws-url", Input).value == echo_url.replace("http", "ws") + "/"
        await connect(pilot, panel)
        session = panel.current
        assert session is not None
        app.query_one("#ws-message", TextArea).text = "hello"
        await pilot.press("ctrl+j")
        await until(pilot, lambda: any(f.preview == "echo: hello" for f in session.frames))
        assert "open" in text_of(app, "#ws-state") and "Accepted" in text_of(app, "#ws-state")
        await pilot.press("ctrl+g")  # ping
        await until(pilot, lambda: any(f.kind == "pong" for f in session.frames))
        assert "pong in" in text_of(app, "#ws-error")
        app.query_one("#ws-close-code", Input).value = "4001"
        app.query_one("#ws-close-reason", Input).value = "done"
        await pilot.click("#ws-close")
        await until(pilot, lambda: session.state == "closed")
        assert session.close_code == 4001


async def test_invalid_json_is_refused_before_sending(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await connect(pilot, panel)
        app.query_one("#ws-mode", Select).value = "json"
        app.query_one("#ws-message", TextArea).text = '{"message": '
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert "Invalid JSON at line 1" in text_of(app, "#ws-error")
        assert panel.current is not None
        assert not [f for f in panel.current.frames if f.direction == "out"]


async def test_binary_hex_round_trip_and_history(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await connect(pilot, panel)
        session = panel.current
        assert session is not None
        area = app.query_one("#ws-message", TextArea)
        area.text = "first"
        await pilot.press("ctrl+j")
        app.query_one("#ws-mode", Select).value = "hex"
        area.text = "ca fe"
        await pilot.press("ctrl+j")
        await until(
            pilot, lambda: any(f.preview == "ca fe" and f.direction == "in" for f in session.frames)
        )
        area.text = ""
        await pilot.press("ctrl+up")  # newest first, like a shell
        assert area.text == "ca fe"
        await pilot.press("ctrl+up")
        assert area.text == "first" and app.query_one("#ws-mode", Select).value == "text"
        await pilot.press("ctrl+down")
        assert area.text == "ca fe" and app.query_one("#ws-mode", Select).value == "hex"


async def test_route_choice_fills_the_url_and_params_must_be_filled() -> None:
    app = PanelApp("http://127.0.0.1:8000")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        panel.set_routes(
            [
                WsRoute("/ws/echo/", "demoapp.consumers.EchoConsumer"),
                WsRoute(
                    "/ws/chat/{room}/",
                    "demoapp.consumers.ChatConsumer",
                    params=(RouteParam("room", "slug"),),
                ),
            ]
        )
        app.query_one("#ws-route", Select).value = "/ws/chat/{room}/"
        await pilot.pause()
        assert app.query_one("#ws-url", Input).value == "ws://127.0.0.1:8000/ws/chat/{room}/"
        assert "{room} (slug)" in text_of(app, "#ws-error")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "Fill in the URL parameter(s) {room}" in text_of(app, "#ws-error")
        assert panel.current is None


async def test_refused_connection_is_a_state_not_a_crash() -> None:
    app = PanelApp("http://127.0.0.1:1")
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: panel.current is not None and panel.current.state == "failed")
        assert "Connection refused" in text_of(app, "#ws-state")


async def test_server_side_record_is_linked_by_the_marker_header(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await connect(pilot, panel)
        session = panel.current
        assert session is not None
        panel.show_changes(
            app.model.ingest(
                [
                    WsOpened(id="1-9", path="/ws/other/", request_headers=(("origin", "x"),)),
                    WsOpened(
                        id="1-7",
                        path="/ws/chat/lobby/",
                        request_headers=((MARKER_HEADER, session.id),),
                    ),
                    WsAccepted(
                        id="1-7",
                        consumer="demoapp.consumers.ChatConsumer",
                        url_kwargs=(("room", "lobby"),),
                    ),
                    WsFrame(id="1-7", direction="in", size=5, preview="hello"),
                    WsClosed(id="1-7", code=1011, by="error"),
                ]
            )
        )
        await pilot.pause()
        summary = text_of(app, "#ws-server-summary")
        # The class name only: the pane is half of 80 columns at the smallest size.
        assert "ChatConsumer" in summary and "room=lobby" in summary
        assert "close 1011 by server (consumer raised)" in summary
        assert "crashed" not in summary  # no error info: a plain close by error
        assert panel.records.for_client(session.id).id == "1-7"  # type: ignore[union-attr]
        assert [c.id for c in panel.records.others()] == ["1-9"]


async def test_two_sessions_have_their_own_tabs_and_logs(echo_url: str) -> None:
    app = PanelApp(echo_url)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(WebSocketPanel)
        await connect(pilot, panel)
        first = panel.current
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+o")
        await until(pilot, lambda: panel.current is not first and panel.current.state == "open")  # type: ignore[union-attr]
        assert len(panel.sessions) == 2
        app.query_one("#ws-message", TextArea).text = "to second"
        await pilot.press("ctrl+j")
        second = panel.current
        assert second is not None and first is not None
        await until(pilot, lambda: any(f.preview == "echo: to second" for f in second.frames))
        assert not any(f.preview == "echo: to second" for f in first.frames)
