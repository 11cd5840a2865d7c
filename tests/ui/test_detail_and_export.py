"""Pilot tests: opening a request's detail, copying it as curl, exporting HAR with redaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, TabbedContent

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.redact import REDACTED
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.screens.export import ExportDialog
from asgi_dashboard.screens.main import MainScreen
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import plain, settle, wait_for
from tests.ui.scripted import T0, main_script, make_config, scripted_factory
from tests.unit.test_har import assert_valid_har

SIZE = (160, 48)


def build() -> DashboardApp:
    app = make_app(make_config(), scripted_factory(main_script()))
    app.clock = lambda: T0 + 125
    return app


async def select_path(pilot, app: DashboardApp, path: str) -> None:  # type: ignore[no-untyped-def]
    log = app.main_screen.query_one(RequestLog)
    keys = list(log.shown)
    index = next(i for i, k in enumerate(keys) if log.shown[k].entry.path == path)
    log.move_cursor(row=index)
    await pilot.pause()


async def test_enter_opens_detail_with_error_tab() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/async/broken/")
        await pilot.press("enter")
        assert isinstance(app.screen, RequestDetailScreen)
        assert app.screen.entry.path == "/async/broken/"
        assert app.screen.query_one(TabbedContent).active == "tab-error"
        error = plain(app.screen.query_one("#error-view"))
        assert "SynchronousOnlyOperation" in error
        assert "hint: Wrap the ORM call" in error
        assert "/tmp/x/polls/views.py:42" in error
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_click_on_selected_row_opens_detail_and_sql_duplicates_flagged() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/polls/1/")
        log = app.main_screen.query_one(RequestLog)
        # Click a row to highlight it (stops following), click it again to open it.
        await pilot.click(log, offset=(20, log.cursor_row + 1))
        assert not log.following
        await pilot.click(log, offset=(20, log.cursor_row + 1))
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        await pilot.press("3")  # Request, Response, SQL, curl (no Error tab: it did not raise)
        assert app.screen.query_one(TabbedContent).active == "tab-sql"
        sql = plain(app.screen.query_one("#sql-view"))
        assert "likely N+1" in sql
        assert "5 similar statements (same SQL, 3 parameter sets" in sql
        assert "~5 =2" in sql and "polls/views.py:34 in get_context_data" in sql
        timing = plain(app.screen.query_one("#timing-bar"))
        assert "thread wait 2.0 ms" in timing and "template 6.0 ms" in timing


async def test_copy_as_curl() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/polls/1/vote/")
        await pilot.press("enter")
        await pilot.press("c")
        curl = app.clipboard
        assert curl.startswith(
            "curl -X POST 'http://127.0.0.1:8000/polls/1/vote/?next=%2Fpolls%2F'"
        )
        assert "--data-binary choice=2" in curl
        assert "-H 'authorization: Bearer s3cret'" in curl
        assert app.screen.query_one(TabbedContent).active == "tab-curl"
        assert "curl -X POST" in plain(app.screen.query_one("#curl-command"))


async def export(
    pilot: Pilot[Any], app: DashboardApp, target: Path, keep_secrets: bool
) -> dict[str, Any]:
    await pilot.press("e")
    assert isinstance(app.screen, ExportDialog)
    path_input = app.screen.query_one("#export-path", Input)
    assert path_input.value.startswith("./asgi-dash-") and path_input.value.endswith(".har")
    path_input.value = str(target)
    if keep_secrets:
        app.screen.query_one("#export-keep-secrets", Checkbox).value = True
    await pilot.click("#export-ok")
    await wait_for(pilot, target.exists, what="the HAR file")
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    doc: dict[str, Any] = json.loads(target.read_text())
    return doc


async def test_export_har_redacts_by_default_and_respects_filter(tmp_path: Path) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        doc = await export(pilot, app, tmp_path / "all.har", keep_secrets=False)
        assert_valid_har(doc)
        # Static files are hidden: 6 requests and the chat WebSocket (Chrome's form).
        assert len(doc["log"]["entries"]) == 7
        ws = [e for e in doc["log"]["entries"] if e.get("_resourceType") == "websocket"]
        assert [e["request"]["url"] for e in ws] == ["ws://127.0.0.1:8000/ws/chat/lobby/"]
        assert ws[0]["response"]["status"] == 101 and "_webSocketMessages" in ws[0]
        text = json.dumps(doc)
        assert "s3cret" not in text and "abc123" not in text and REDACTED in text

        app.main_screen.query_one("#filter-input", Input).value = "method:POST"
        await pilot.pause()
        doc = await export(pilot, app, tmp_path / "post.har", keep_secrets=True)
        assert_valid_har(doc)
        assert [e["request"]["method"] for e in doc["log"]["entries"]] == ["POST"]
        assert "Bearer s3cret" in json.dumps(doc)


async def test_export_cancel_writes_nothing(tmp_path: Path) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert not list(tmp_path.iterdir())


async def test_enter_on_a_websocket_row_opens_its_detail() -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_path(pilot, app, "/ws/chat/lobby/")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        text = " ".join(plain(w) for w in app.screen.query("Static"))
        assert "chat.consumers.ChatConsumer" in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
