"""Pilot tests of "Write test" (t): the dialog, the file it writes, from the log and the detail."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import Checkbox, Input

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.screens.main import MainScreen
from asgi_dashboard.screens.testgen import WriteTestDialog
from asgi_dashboard.testgen import DEFAULT_PATH, MARKER
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import T0, main_script, make_config, scripted_factory
from tests.ui.test_detail_and_export import SIZE, select_path


def build(project: Path) -> DashboardApp:
    config = dataclasses.replace(make_config(), project_dir=project)
    app = make_app(config, scripted_factory(main_script()))
    app.clock = lambda: T0 + 125
    return app


async def test_t_writes_a_test_for_the_selected_request_then_appends(tmp_path: Path) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/polls/1/vote/")
        await pilot.press("t")
        assert isinstance(app.screen, WriteTestDialog)
        assert "POST /polls/1/vote/?next=%2Fpolls%2F" in app.screen.what
        path_input = app.screen.query_one("#testgen-path", Input)
        assert path_input.value == DEFAULT_PATH
        assert not app.screen.query_one("#testgen-keep-secrets", Checkbox).value
        await pilot.click("#testgen-ok")
        target = tmp_path / DEFAULT_PATH
        await wait_for(pilot, target.exists, what="the generated test file")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        text = target.read_text()
        assert text.startswith(f'"""{MARKER}.')
        assert "def test_post_polls_1_vote_" in text
        assert "client.post(" in text and "s3cret" not in text
        compile(text, str(target), "exec")
        # From the detail screen, the same key; the file gets a second test appended.
        await pilot.press("enter")
        assert isinstance(app.screen, RequestDetailScreen)
        await pilot.press("t")
        assert isinstance(app.screen, WriteTestDialog)
        await pilot.press("enter")  # submits the file input
        await wait_for(pilot, lambda: target.read_text().count("def test_") == 2)
        assert isinstance(app.screen, RequestDetailScreen)


async def test_t_on_a_websocket_row_writes_an_async_test(tmp_path: Path) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/ws/chat/lobby/")
        await pilot.press("t")
        assert isinstance(app.screen, WriteTestDialog)
        assert app.screen.websocket
        assert not app.screen.query("#testgen-keep-secrets")
        target = tmp_path / "ws_tests.py"
        app.screen.query_one("#testgen-path", Input).value = str(target)
        await pilot.click("#testgen-ok")
        await wait_for(pilot, target.exists, what="the generated WebSocket test")
        text = target.read_text()
        assert "async def test_ws_chat_lobby():" in text
        assert "WebsocketCommunicator(" in text
        compile(text, str(target), "exec")


async def test_escape_cancels_and_writes_nothing(tmp_path: Path) -> None:
    app = build(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/polls/1/vote/")
        await pilot.press("t")
        assert isinstance(app.screen, WriteTestDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert not (tmp_path / DEFAULT_PATH).exists()


async def test_t_on_the_websocket_tab_writes_the_sessions_connection(tmp_path: Path) -> None:
    from tests.ui.test_ws_tab import build as build_ws
    from tests.ui.test_ws_tab import crashed_session

    app, runtimes = build_ws()
    app.config = dataclasses.replace(app.config, project_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        panel = await crashed_session(pilot, runtimes)
        panel.focus()  # out of the message box: the tab's keys work
        await pilot.pause()
        await pilot.press("t")
        assert isinstance(app.screen, WriteTestDialog)
        assert app.screen.websocket and app.screen.what == "WebSocket /ws/chat/lobby/"
        await pilot.click("#testgen-ok")
        target = tmp_path / DEFAULT_PATH
        await wait_for(pilot, target.exists, what="the WebSocket tab's test")
        # The session's newest connection (the reconnect), not the crashed one.
        assert "async def test_ws_chat_lobby():" in target.read_text()
        assert "0 in, 0 out, open" in target.read_text()
