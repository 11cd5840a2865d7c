"""The startup-error panel: the one-line reason the project did not start, and its traceback.

Shown when ``ServerFailed`` arrives and hidden again when a server starts. The traceback scrolls
inside the panel (never across the terminal), and the app stays open so the user can read it,
fix the code, and let the reloader (or ``r``) try again.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ..events import ServerFailed


class StartupErrorPanel(Vertical):
    """Hidden until a start fails."""

    def compose(self) -> ComposeResult:
        yield Static(id="failure-message")
        yield Static(id="failure-where")
        with VerticalScroll(id="failure-scroll"):
            yield Static(id="failure-traceback")

    def on_mount(self) -> None:
        self.border_title = "Server failed to start"
        self.display = False

    def show_failure(self, failure: ServerFailed) -> None:
        self.border_title = f"Server failed to start ({failure.phase})"
        self.query_one("#failure-message", Static).update(Text(failure.message))
        where = Text()
        error = failure.error
        if error is not None:
            where.append(f"{error.type}: {error.message}", style="bold")
            if error.frame is not None:
                f = error.frame
                where.append(f"\n{f.filename}:{f.lineno} in {f.function}")
                if f.line:
                    where.append(f"   {f.line}", style="italic")
            if error.hint:
                where.append(f"\nhint: {error.hint}")
        where.append(
            "\nFix the code and save (the server restarts), or press r to retry.", style="dim"
        )
        self.query_one("#failure-where", Static).update(where)
        traceback = error.traceback.rstrip() if error is not None else "(no traceback)"
        self.query_one("#failure-traceback", Static).update(Text(traceback))
        self.display = True

    def hide(self) -> None:
        self.display = False
