"""The WebSocket tab inside the real app (make_app + a scripted runtime): a consumer crash
beside its client, the reconnect as a new segment, keys through Pilot, and snapshots at
160x48 and 80x24."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, RichLog, TabbedContent, TextArea

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import (
    Event,
    ExceptionInfo,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.screens.help import KEYMAP, HelpScreen
from asgi_dashboard.widgets.request_log import RequestLog
from asgi_dashboard.widgets.ws_forms import websocat_command
from asgi_dashboard.widgets.ws_panel import WebSocketPanel
from asgi_dashboard.wsclient import MARKER_HEADER, HandshakeResult
from asgi_dashboard.wsframes import frame_record
from tests.ui.conftest import plain, settle
from tests.ui.scripted import MS, T0, main_script, make_config, scripted_factory

URL = "ws://127.0.0.1:8000/ws/chat/lobby/"
CLIENT = "c1-fixed"
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "chat/consumers.py", line 31, in receive_json\n'
    '    raise ValueError("boom")\n'
    "ValueError: boom"
)


def crash_events() -> list[Event]:
    """The server's side: a consumer that raised on a frame, then the client's reconnect."""
    opened = {"path": "/ws/chat/lobby/", "request_headers": ((MARKER_HEADER, CLIENT),)}
    consumer = "chat.consumers.ChatConsumer"
    return [
        WsOpened(ts=T0 + 10, id="1-20", **opened),  # type: ignore[arg-type]
        WsAccepted(ts=T0 + 10, id="1-20", consumer=consumer, url_kwargs=(("room", "lobby"),)),
        WsFrame(ts=T0 + 11, id="1-20", direction="in", size=19, preview='{"message": "boom"}'),
        WsClosed(
            ts=T0 + 11.001,
            id="1-20",
            code=1006,  # Uvicorn drops the socket without a close frame (test_ws_close_codes)
            by="error",
            duration_ns=1_001 * MS,
            frames_in=1,
            consumer=consumer,
            error=ExceptionInfo(type="ValueError", message="boom", traceback=TRACEBACK),
        ),
        WsOpened(ts=T0 + 12, id="1-21", **opened),  # type: ignore[arg-type]
        WsAccepted(ts=T0 + 12, id="1-21", consumer=consumer, url_kwargs=(("room", "lobby"),)),
    ]


def build() -> tuple[DashboardApp, list[Any]]:
    runtimes: list[Any] = []
    app = make_app(make_config(), scripted_factory(main_script(), runtimes))
    app.clock = lambda: T0 + 125
    return app, runtimes


async def crashed_session(pilot: Pilot[Any], runtimes: list[Any]) -> WebSocketPanel:
    """Open the WebSocket tab (key 4) with one scripted session whose consumer crashed."""
    await settle(pilot)
    await pilot.press("4")
    await pilot.pause()
    panel = pilot.app.query_one(WebSocketPanel)
    panel.query_one("#ws-url", Input).value = URL
    session = panel.new_session()
    session.id = CLIENT
    session.options.url = URL
    # Scripted, not connected: the session reports what the real connection reported.
    session._notify(HandshakeResult("accepted", "Accepted.", URL, status=101, ts=T0 + 10))
    session._notify(frame_record(1, "info", "note", "connection 1 open: Accepted.", ts=T0 + 10))
    session._set_state("open", "Accepted.")
    session._notify(frame_record(2, "out", "text", '{"message": "boom"}', ts=T0 + 11))
    closed = "connection 1 closed by network: 1006 connection lost"
    session._notify(frame_record(3, "info", "note", closed, ts=T0 + 11.002))
    session._set_state("closed", "closed by network: 1006 connection lost")
    reconnecting = "reconnecting: closed by network with 1006"
    session._notify(frame_record(4, "info", "note", reconnecting, ts=T0 + 11.003))
    session._notify(frame_record(5, "info", "note", "connection 2 open: Accepted.", ts=T0 + 12))
    session._set_state("open", "Accepted.")
    runtimes[0].emit(*crash_events())
    await settle(pilot)
    panel.query_one("#ws-message", TextArea).text = '{"message": "boom"}'
    await pilot.pause()
    return panel


def server_text(panel: WebSocketPanel) -> str:
    log = panel.query_one("#ws-server-frames", RichLog)
    return "\n".join(strip.text for strip in log.lines)


async def test_crash_stays_visible_after_reconnect() -> None:
    app, runtimes = build()
    async with app.run_test(size=(160, 48)) as pilot:
        panel = await crashed_session(pilot, runtimes)
        text = server_text(panel)
        assert "close 1006 by server (consumer raised)" in text
        assert "ValueError: boom" in text
        assert 'chat/consumers.py", line 31' in text
        assert "reconnected: connection 2 of 2" in text
        assert text.index("ValueError: boom") < text.index("reconnected: connection 2")
        summary = plain(panel.query_one("#ws-server-summary"))
        assert "#1 crashed: ValueError: boom (above)" in summary


async def test_escape_releases_the_message_box_so_tab_keys_work() -> None:
    app, runtimes = build()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await crashed_session(pilot, runtimes)
        area = panel.query_one("#ws-message", TextArea)
        area.focus()
        await pilot.pause()
        await pilot.press("x", "escape")
        await pilot.pause()
        assert app.focused is panel  # the panel keeps its keys in the footer
        assert {"ctrl+o", "ctrl+j", "ctrl+n", "ctrl+g"} <= set(app.active_bindings)
        await pilot.press("1")
        await pilot.pause()
        assert app.main_screen.query_one(TabbedContent).active == "requests"
        assert area.text == 'x{"message": "boom"}'  # "1" went to the app, not the message


def test_ws_tab_crash_wide(snap_compare: Any) -> None:
    app, runtimes = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await crashed_session(pilot, runtimes)

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_ws_tab_crash_80x24(snap_compare: Any) -> None:
    app, runtimes = build()

    async def run_before(pilot: Pilot[Any]) -> None:
        await crashed_session(pilot, runtimes)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_websocket_keys_are_in_help_and_palette() -> None:
    app, _runtimes = build()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.main_screen)}
        assert {"WebSocket: connect / close", "WebSocket: send message"} <= titles
        assert {"WebSocket: new session", "WebSocket: ping"} <= titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        ws_keys = dict(dict(KEYMAP)["WebSocket tab (4)"])
        assert {"ctrl+o", "ctrl+n", "ctrl+j", "ctrl+g", "escape"} <= set(ws_keys)


async def test_ctrl_t_folds_the_options_row_and_palette_opens_the_tab() -> None:
    app, runtimes = build()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await crashed_session(pilot, runtimes)
        options = panel.query_one("#ws-options")
        body = panel.query_one("#ws-body")
        rows = body.size.height
        assert options.display
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not options.display and body.size.height == rows + 1
        await pilot.press("1")
        await pilot.pause()
        new_session = next(
            c
            for c in app.get_system_commands(app.main_screen)
            if c.title == "WebSocket: new session"
        )
        new_session.callback()
        await pilot.pause()
        assert app.main_screen.query_one(TabbedContent).active == "websocket"
        assert len(panel.sessions) == 2


async def test_websocket_detail_has_frames_and_copies_websocat() -> None:
    app, runtimes = build()
    async with app.run_test(size=(100, 30)) as pilot:
        await crashed_session(pilot, runtimes)
        await pilot.press("escape", "1")
        await pilot.pause()
        log = app.main_screen.query_one(RequestLog)
        keys = list(log.shown)
        log.move_cursor(row=next(i for i, k in enumerate(keys) if log.shown[k].entry.id == "1-20"))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RequestDetailScreen)
        assert screen.query_one(TabbedContent).active == "tab-error"  # it crashed: error first
        frames = plain(screen.query_one("#frames-view"))
        assert '{"message": "boom"}' in frames
        assert "close 1006 by server (consumer raised)" in frames
        assert "closed by server (consumer raised) (code 1006)" in plain(
            screen.query_one("#detail-summary")
        )
        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard.startswith("websocat ")
        assert app.clipboard.endswith(" ws://127.0.0.1:8000/ws/chat/lobby/")
        assert MARKER_HEADER not in app.clipboard
        assert screen.query_one(TabbedContent).active == "tab-websocat"


def test_websocat_command_keeps_cookie_origin_and_subprotocols() -> None:
    command = websocat_command(
        "/ws/chat/lobby/",
        "a=1",
        [
            ("host", "127.0.0.1:8000"),
            ("sec-websocket-key", "x"),
            ("origin", "http://127.0.0.1:8000"),
            ("cookie", "sessionid=abc"),
            ("sec-websocket-protocol", "chat"),
            (MARKER_HEADER, "c1"),
        ],
        "http://127.0.0.1:8000",
    )
    assert command == (
        "websocat -H 'origin: http://127.0.0.1:8000' -H 'cookie: sessionid=abc' "
        "--protocol chat 'ws://127.0.0.1:8000/ws/chat/lobby/?a=1'"
    )
