"""The editor key (E): a real script as $EDITOR records the argv it was started with."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import Event
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import settle, wait_for
from tests.ui.scripted import T0, failure_script, main_script, make_config, scripted_factory

SIZE = (160, 48)
VIEWS = "from x import y\n\n\ndef index(request):\n    pass\n\n\nclass DetailView:\n    pass\n"


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$EDITOR is a shell script writing its arguments, one a line, to the returned file."""
    out = tmp_path / "argv.txt"
    script = tmp_path / "fake-editor"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{out}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    project = tmp_path / "project"
    (project / "polls").mkdir(parents=True)
    (project / "polls" / "views.py").write_text(VIEWS)
    return out


def build(project: Path, script: list[Event]) -> DashboardApp:
    config = dataclasses.replace(make_config(), project_dir=project)
    app = make_app(config, scripted_factory(script))
    app.clock = lambda: T0 + 125
    return app


async def press_editor(pilot: Pilot[Any], out: Path) -> list[str]:
    out.unlink(missing_ok=True)
    await pilot.press("E")
    await wait_for(pilot, out.exists)
    return out.read_text().splitlines()


def select(app: DashboardApp, path: str) -> None:
    log = app.main_screen.query_one(RequestLog)
    log.move_cursor(row=[i.entry.path for i in log.shown.values()].index(path))


async def test_from_a_request_its_error_frame_else_its_view(editor: Path) -> None:
    project = editor.parent / "project"
    app = build(project, main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        select(app, "/async/broken/")
        await pilot.pause()
        assert await press_editor(pilot, editor) == ["+42", "/tmp/x/polls/views.py"]
        select(app, "/polls/")  # no error: the view's def, read from the project's files
        await pilot.pause()
        views_py = str(project / "polls" / "views.py")
        assert await press_editor(pilot, editor) == ["+4", views_py]
        await pilot.press("enter")  # the detail screen: same rule, and the dashboard is back
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        assert await press_editor(pilot, editor) == ["+4", views_py]
        assert isinstance(app.screen, RequestDetailScreen)


async def test_from_the_views_tab_and_the_blocked_loop_report(editor: Path) -> None:
    project = editor.parent / "project"
    app = build(project, main_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        table = app.main_screen.view_stats
        await wait_for(pilot, lambda: table.row_count == 7)
        row = next(i for i in range(table.row_count) if "DetailView" in str(table.get_row_at(i)))
        table.move_cursor(row=row)
        await pilot.pause()
        assert await press_editor(pilot, editor) == ["+8", str(project / "polls" / "views.py")]
        await pilot.press("3")  # console: the newest blocked-loop report's frame
        await pilot.pause()
        assert await press_editor(pilot, editor) == ["+58", "/tmp/x/polls/views.py"]


async def test_from_the_startup_error(editor: Path) -> None:
    app = build(editor.parent / "project", failure_script())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert await press_editor(pilot, editor) == ["+12", "/tmp/x/demosite/settings.py"]


async def test_nothing_to_open_and_no_editor_say_why(
    editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build(editor.parent / "project", main_script())
    said: list[str] = []
    notify = app.notify

    def recording_notify(message: str, **kwargs: object) -> None:
        said.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = recording_notify  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        select(app, "/api/stats")  # api.views.stats: not in the project's files
        await pilot.press("E")
        await pilot.pause()
        assert not editor.exists()
        assert any(m.startswith("Nothing to open") for m in said)
        monkeypatch.delenv("EDITOR")
        monkeypatch.setenv("PATH", str(editor.parent / "empty"))
        select(app, "/async/broken/")
        await pilot.press("E")
        await pilot.pause()
        assert any("set $VISUAL or $EDITOR" in m for m in said)
