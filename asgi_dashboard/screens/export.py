"""The HAR export dialog: confirm the path and whether to redact sensitive headers."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from ..har import default_filename


@dataclass(frozen=True, slots=True)
class ExportChoice:
    """What the user confirmed."""

    path: str
    redact: bool = True


class ExportDialog(ModalScreen[ExportChoice | None]):
    """Path input (default ``./asgi-dash-<timestamp>.har``) and a keep-secrets checkbox."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        count: int,
        filtered: bool,
        default_path: str | None = None,
        *,
        connections: int = 0,
    ) -> None:
        super().__init__(id="export-dialog")
        self.count = count
        self.connections = connections
        self.filtered = filtered
        self.default_path = default_path or default_filename()

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            what = "matching the filter" if self.filtered else "in the log"
            counted = _plural(self.count, "request")
            if self.connections:
                counted += f" and {_plural(self.connections, 'WebSocket connection')}"
            yield Static(f"Export {counted} {what} as HAR 1.2", id="export-title")
            yield Label("File")
            yield Input(self.default_path, id="export-path")
            yield Checkbox("Keep secrets", False, id="export-keep-secrets")
            yield Static(
                "Unless kept, Authorization, Cookie and Set-Cookie values and SQL parameters "
                "are redacted.",
                id="export-note",
            )
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-ok")
                yield Button("Cancel", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def _choice(self) -> ExportChoice | None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.notify("Give a file name", severity="error")
            return None
        keep = self.query_one("#export-keep-secrets", Checkbox).value
        return ExportChoice(path, redact=not keep)

    @on(Button.Pressed, "#export-ok")
    @on(Input.Submitted, "#export-path")
    def _confirm(self) -> None:
        choice = self._choice()
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
