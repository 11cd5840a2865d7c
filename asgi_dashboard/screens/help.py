"""The help screen (``?``): the key map and the filter language."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..filters import CHEATSHEET

#: (keys, what) per section; kept next to the bindings' own descriptions in the footer.
KEYMAP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Everywhere",
        (
            ("q / ctrl+q", "quit: stop the server, free the port, restore the terminal"),
            ("r / ctrl+r", "restart the server"),
            ("?", "this help"),
            ("ctrl+p", "command palette (every action, themes)"),
        ),
    ),
    (
        "Main screen",
        (
            ("1 2 3 4 5", "Requests / Views / Console / WebSocket / Reloads tab"),
            ("/", "filter the request log (escape leaves the filter)"),
            ("f / End", "follow the newest request again"),
            ("↑ ↓ PgUp PgDn", "select a request (stops following)"),
            ("enter / click", "open the selected request"),
            ("s", "show / hide static files"),
            ("o", "Requests tab: rows by start time / by finish time (the default)"),
            ("Home / End", "first / newest row; in the Console, first / newest line"),
            ("p", "pause / resume the log (events are still recorded)"),
            ("ctrl+l", "clear the log and per-view stats"),
            ("e", "export the filtered log as HAR 1.2"),
            ("d", "hide the startup-error panel"),
            ("z", "maximize the focused panel (escape restores)"),
            ("u", "copy the server URL"),
            ("t", "write a pytest test that replays the selected request or connection"),
            ("m / b / R", "middleware audit / compare views under load / replay the request"),
            ("o / O", "Views tab: sort by the next column / reverse (or click a header)"),
            (
                "E",
                "open the code in $VISUAL/$EDITOR: the request's error or view, the view's"
                " row, the startup error, the console's newest blocked-loop report",
            ),
        ),
    ),
    (
        "WebSocket tab (4)",
        (
            ("ctrl+o", "connect / close the current session"),
            ("ctrl+n", "new session (a tab of its own)"),
            ("ctrl+j", "send the message (mode: text, json, hex, base64)"),
            ("ctrl+g", "ping (the pong's round trip is shown)"),
            ("ctrl+↑ ctrl+↓", "previous / next sent message"),
            ("ctrl+t", "fold / unfold the options row (headers, subprotocols, user)"),
            ("escape", "leave the message box or a field: 1-5, q and ? work again"),
            ("i", "back into the message box"),
        ),
    ),
    (
        "Request detail",
        (
            ("1-5", "switch tab"),
            ("c", "copy as curl"),
            ("t", "write a pytest test that replays it"),
            ("E", "open the error's line or the view in $VISUAL/$EDITOR"),
            ("escape", "back to the log"),
        ),
    ),
)


class HelpScreen(ModalScreen[None]):
    """Keys and filter grammar."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self._keys(), id="help-keys")
            yield Static(Text("Filter language", style="bold"), classes="section")
            yield Static(Text(CHEATSHEET), id="help-filters")
            yield Static(Text("escape closes this help", style="dim"))

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for section, rows in KEYMAP:
            table.add_row(Text(section, style="bold underline"), "")
            for keys, what in rows:
                table.add_row(keys, what)
            table.add_row("", "")
        return table

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
