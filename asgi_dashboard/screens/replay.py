"""Replay a captured request and show the difference (status, headers, body, timing).

The replay (:mod:`asgi_dashboard.diagnostics.replay`) runs in a named worker against the
server as it runs now (typically after a reload); ``r`` replays again.
"""

from __future__ import annotations

import httpx
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..diagnostics.replay import ReplayDiff, ReplayError, format_diff, replay
from ..events import RequestFinished

#: Styles for unified-diff lines (by their first character after the indent).
LINE_STYLES = {"+": "green", "-": "red", "@": "cyan", "~": "yellow"}


def styled_diff(diff: ReplayDiff) -> Text:
    """The plain-text diff with added/removed/changed lines coloured."""
    text = Text()
    for i, line in enumerate(format_diff(diff).splitlines()):
        if i == 0:
            style = "bold green" if diff.same else "bold yellow"
        else:
            style = LINE_STYLES.get(line[2:3], "") if line.startswith("  ") else ""
            if line.startswith(("  --- ", "  +++ ")):
                style = "bold"
        text.append(line + "\n", style=style)
    return text


class ReplayScreen(Screen[None]):
    """One replay of one captured request."""

    CSS_PATH = "replay.tcss"
    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("r", "replay", "Replay again"),
    ]

    class Replayed(Message):
        """A replay finished; ``diff`` is None when it could not be sent."""

        def __init__(self, diff: ReplayDiff | None, error: str | None = None) -> None:
            super().__init__()
            self.diff = diff
            self.error = error

    def __init__(
        self,
        original: RequestFinished,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(id="replay")
        self.original = original
        self.base_url = base_url
        self.transport = transport
        self.diff: ReplayDiff | None = None

    def compose(self) -> ComposeResult:
        o = self.original
        target = o.path + (f"?{o.query}" if o.query else "")
        yield Static(
            f"[b]Replay[/b] {o.method} {target} [dim](id {o.id}, status {o.status}) "
            f"to {self.base_url}[/dim]",
            id="replay-summary",
            markup=True,
        )
        with VerticalScroll(id="replay-box"):
            yield Static("Sending…", id="replay-diff", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_replay()

    def action_replay(self) -> None:
        self.query_one("#replay-diff", Static).update("Sending…")
        self.replay_request()

    @work(exclusive=True, name="replay_request", group="replay", exit_on_error=False)
    async def replay_request(self) -> None:
        out = self.query_one("#replay-diff", Static)
        try:
            diff = await replay(self.original, self.base_url, transport=self.transport)
        except (ReplayError, httpx.HTTPError) as exc:
            out.update(f"Could not replay: {exc}")
            self.post_message(self.Replayed(None, str(exc)))
            return
        self.diff = diff
        out.update(styled_diff(diff))
        self.post_message(self.Replayed(diff))
