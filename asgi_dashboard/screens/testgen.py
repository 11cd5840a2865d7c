"""The "Write test" dialog: which file the generated pytest test goes to, and whether the
body's secrets are kept. Modelled on the HAR export dialog (screens/export.py).

The test itself is generated and written by :mod:`asgi_dashboard.testgen` (no Textual) once the
user confirms; this screen only asks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from ..events import RequestFinished
from ..model.ws import ServerConnection
from ..testgen import DEFAULT_PATH, GenOptions, http_test, write_test, ws_test


@dataclass(frozen=True, slots=True)
class WriteTestChoice:
    """What the user confirmed."""

    path: str
    keep_secrets: bool = False


class WriteTestDialog(ModalScreen[WriteTestChoice | None]):
    """File input (default ``tests/test_asgi_dash_generated.py`` in the project) and, for an
    HTTP request, a keep-secrets checkbox."""

    CSS_PATH = "testgen.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, default_path: str, project_dir: str, *, websocket: bool) -> None:
        super().__init__(id="testgen-dialog")
        self.what = what
        self.default_path = default_path
        self.project_dir = project_dir
        self.websocket = websocket

    def compose(self) -> ComposeResult:
        with Vertical(id="testgen-box"):
            yield Static(f"Write a pytest test for {self.what}", id="testgen-title")
            yield Label(f"File (relative to {self.project_dir})")
            yield Input(self.default_path, id="testgen-path")
            if not self.websocket:
                yield Checkbox("Keep secrets in the body", False, id="testgen-keep-secrets")
            yield Static(self._note(), id="testgen-note")
            with Horizontal(id="testgen-buttons"):
                yield Button("Write", variant="primary", id="testgen-ok")
                yield Button("Cancel", id="testgen-cancel")

    def _note(self) -> str:
        if self.websocket:
            how = (
                "Replays the client's frames with Channels' WebsocketCommunicator and expects "
                "the server's, in order (pytest-django, pytest-asyncio)."
            )
        else:
            how = (
                "Replays the request with Django's test Client and asserts its status and "
                "number of queries (pytest-django). Cookies and tokens are never copied; "
                "unless kept, password and token fields become a TODO."
            )
        return f"{how} An existing file gets the test appended, never overwritten."

    def on_mount(self) -> None:
        self.query_one("#testgen-path", Input).focus()

    def _choice(self) -> WriteTestChoice | None:
        path = self.query_one("#testgen-path", Input).value.strip()
        if not path:
            self.notify("Give a file name", severity="error")
            return None
        keep = False
        if not self.websocket:
            keep = self.query_one("#testgen-keep-secrets", Checkbox).value
        return WriteTestChoice(path, keep_secrets=keep)

    @on(Button.Pressed, "#testgen-ok")
    @on(Input.Submitted, "#testgen-path")
    def _confirm(self) -> None:
        choice = self._choice()
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#testgen-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def describe(entry: RequestFinished | ServerConnection) -> str:
    """What the dialog's title names: ``GET /path?q`` or ``WebSocket /ws/path``."""
    if isinstance(entry, RequestFinished):
        target = entry.path + (f"?{entry.query}" if entry.query else "")
        return f"{entry.method} {target} ({entry.status})"
    return f"WebSocket {entry.opened.path}"


def ask_and_write(
    app: App[Any], entry: RequestFinished | ServerConnection, project_dir: Path
) -> None:
    """Open the dialog; on confirm, generate the test and write it on a worker thread."""

    def chosen(choice: WriteTestChoice | None) -> None:
        if choice is not None:
            app.run_worker(
                functools.partial(_write, app, entry, choice, project_dir),
                name="write_test",
                group="testgen",
                thread=True,
                exit_on_error=False,
            )

    websocket = not isinstance(entry, RequestFinished)
    dialog = WriteTestDialog(describe(entry), DEFAULT_PATH, str(project_dir), websocket=websocket)
    app.push_screen(dialog, chosen)


def _write(
    app: App[Any],
    entry: RequestFinished | ServerConnection,
    choice: WriteTestChoice,
    project_dir: Path,
) -> None:
    """Generate and write (file I/O and ruff off the event loop); say where it went."""
    if isinstance(entry, RequestFinished):
        test = http_test(entry, GenOptions(keep_secrets=choice.keep_secrets))
    else:
        test = ws_test(entry)
    try:
        result = write_test(choice.path, test, root=project_dir)
    except (OSError, SyntaxError) as exc:
        app.call_from_thread(app.notify, f"No test written: {exc}", severity="error", timeout=8)
        return
    how = {"created": "new file", "appended": "appended", "appended-foreign": "appended"}[
        result.how
    ]
    todo = f"; {len(test.todos)} TODO in it" if test.todos else ""
    message = f"Wrote {result.name} to {result.path} ({how}{todo})"
    app.call_from_thread(app.notify, message, title="Write test", timeout=6)
