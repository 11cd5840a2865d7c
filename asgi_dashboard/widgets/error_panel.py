"""The startup-error panel: the one-line reason the project did not start, and its traceback.

Shown when ``ServerFailed`` arrives and hidden again when a server starts. The traceback scrolls
inside the panel (never across the terminal), and the app stays open so the user can read it,
fix the code, and let the reloader (or ``r``) try again. A SyntaxError is shown where Python
shows it: the file and line that hold it, the line, and a caret under the column.

A port that cannot be bound is not a code problem: the panel says what holds the port (the
message names the process when we may see it) and offers ``r`` (retry) and ``n`` (a free port);
there is no traceback to show.
"""

from __future__ import annotations

from typing import Any

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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Here, not in on_mount: a failure known at once (a busy port) can be shown before this
        # widget's Mount event is handled, and on_mount would then hide it again.
        self.border_title = "Server failed to start"
        self.display = False

    def show_failure(self, failure: ServerFailed) -> None:
        if failure.phase == "bind":
            self._show_busy_port(failure)
            return
        self.border_title = f"Server failed to start ({failure.phase})"
        self.query_one("#failure-message", Static).update(Text(failure.message))
        where = Text()
        error = failure.error
        if error is not None:
            where.append(f"{error.type}: {error.message}", style="bold")
            if error.frame is not None:
                f = error.frame
                if f.offset is not None:  # a SyntaxError: where Python puts its caret
                    where.append(f"\n{f.filename}, line {f.lineno}")
                    where.append(f"\n    {f.line}", style="bold")
                    where.append("\n    " + " " * (f.offset - 1) + "^", style="bold red")
                else:
                    where.append(f"\n{f.filename}:{f.lineno} in {f.function}")
                    if f.line:
                        where.append(f"   {f.line}", style="italic")
            if error.hint:
                where.append(f"\nhint: {error.hint}")
        where.append(
            "\nFix the code and save (the server restarts), or press r to retry.", style="dim"
        )
        self.query_one("#failure-where", Static).update(where)
        has_traceback = error is not None and bool(error.traceback.strip())
        self.query_one("#failure-scroll").display = has_traceback
        if has_traceback:
            assert error is not None
            self.query_one("#failure-traceback", Static).update(Text(error.traceback.rstrip()))
        self.display = True

    def _show_busy_port(self, failure: ServerFailed) -> None:
        """The address could not be bound: what holds it (in the message) and the two ways on."""
        self.border_title = "Port busy" if " in use" in failure.message else "Cannot listen"
        self.query_one("#failure-message", Static).update(Text(failure.message))
        where = Text()
        where.append("r", style="bold reverse")
        where.append(" retry on the same port (once it is free)    ")
        where.append("n", style="bold reverse")
        where.append(" start on a free port instead    ")
        where.append("q", style="bold reverse")
        where.append(" quit")
        self.query_one("#failure-where", Static).update(where)
        self.query_one("#failure-scroll").display = False  # nothing to trace: not the code
        self.display = True

    def hide(self) -> None:
        self.display = False
