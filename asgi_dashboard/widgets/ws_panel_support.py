"""The WebSocket panel's supporting parts: notes and errors, message history, saved messages,
and the project tools (route discovery, users, "log in as") run in a subprocess.

A base class of :class:`~asgi_dashboard.widgets.ws_panel.WebSocketPanel`, split out to keep each
module to one job; it holds no layout of its own (the panel composes the widgets it queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from ..config import DashboardConfig
from ..wsclient_data import OutgoingMessage
from ..wsframes import SendMode
from .palette import Palette
from .ws_forms import route_label, ws_base

if TYPE_CHECKING:
    from ..runtime.tools import WsRoute


class PanelSupport(Widget):
    """Helpers shared by the panel's actions (see the module docstring)."""

    config: DashboardConfig | None
    server_url: str | None
    palette: Palette
    routes: Sequence[WsRoute]
    cookies: dict[str, str]
    saved: dict[str, list[OutgoingMessage]]
    history: list[tuple[str, SendMode]]
    _history_pos: int

    def _error(self, text: str) -> None:
        self._message(Text(text, style=self.palette.error))

    def _note(self, text: str) -> None:
        self._message(Text(text, style=self.palette.muted))

    def _message(self, text: Text) -> None:
        # The line takes a row only while it has something to say (rows are scarce at 80x24).
        line = self.query_one("#ws-error", Static)
        line.update(text)
        line.display = bool(text.plain)

    def _close_from_form(self) -> None:
        session = self.current  # type: ignore[attr-defined]
        if session is None:
            return
        raw = self.query_one("#ws-close-code", Input).value.strip() or "1000"
        if not raw.isdigit() or not (int(raw) == 1000 or 3000 <= int(raw) <= 4999):
            self._error(f"Close code {raw!r}: use 1000 or an application code 3000-4999.")
            return
        reason = self.query_one("#ws-close-reason", Input).value
        if len(reason.encode()) > 123:
            self._error("Close reason is limited to 123 bytes by the protocol.")
            return
        self.close_session(session, int(raw), reason)  # type: ignore[attr-defined]

    def action_toggle_options(self) -> None:
        """Fold or unfold the options row (headers, subprotocols, user, Origin, Reconnect)."""
        options = self.query_one("#ws-options")
        options.display = not options.display

    def action_focus_message(self) -> None:
        self.query_one("#ws-message", TextArea).focus()

    def action_release_focus(self) -> None:
        self.focus()

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history) - 1, self._history_pos + step))
        text, mode = self.history[self._history_pos]
        self.query_one("#ws-message", TextArea).text = text
        self.query_one("#ws-mode", Select).value = mode

    def _route_key(self) -> str:
        value = self.query_one("#ws-route", Select).value
        return value if isinstance(value, str) else self.query_one("#ws-url", Input).value

    def _save_message(self) -> None:
        text = self.query_one("#ws-message", TextArea).text
        if not text.strip():
            return
        mode: SendMode = self.query_one("#ws-mode", Select).value  # type: ignore[assignment]
        on_connect = self.query_one("#ws-on-connect", Checkbox).value
        saved = self.saved.setdefault(self._route_key(), [])
        saved.append(OutgoingMessage(text, mode, on_connect))
        self._refresh_saved()
        self._note(f"Saved for {self._route_key()} ({len(saved)} message(s)).")

    def _refresh_saved(self) -> None:
        saved = self.saved.get(self._route_key(), [])
        options = [(f"{m.mode}: {m.text[:40]!r}", i) for i, m in enumerate(saved)]
        self.query_one("#ws-saved", Select).set_options(options)

    @on(Select.Changed, "#ws-route")
    def _route_chosen(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str):
            return
        self.query_one("#ws-url", Input).value = ws_base(self.server_url or "") + event.value
        route = next((r for r in self.routes if r.path == event.value), None)
        params = route.params if route else ()
        if params:
            names = ", ".join(f"{{{p.name}}} ({p.converter})" for p in params)
            self._note(f"Fill in {names} in the URL.")
        self._refresh_saved()

    @on(Select.Changed, "#ws-saved")
    def _saved_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            message = self.saved.get(self._route_key(), [])[event.value]
            self.query_one("#ws-message", TextArea).text = message.text
            self.query_one("#ws-mode", Select).value = message.mode
            self.query_one("#ws-on-connect", Checkbox).value = message.on_connect

    @work(group="ws-tools", exit_on_error=False, name="discover_routes")
    async def discover_routes(self) -> None:
        from ..runtime.tools import ToolFailed, find_routes

        result = await find_routes(**self._tool_kwargs())
        if isinstance(result, ToolFailed):
            self._error(f"Route discovery: {result.error}")
            return
        self.set_routes(result.routes, result.note)

    def set_routes(self, routes: Sequence[WsRoute], note: str | None = None) -> None:
        self.routes = routes
        self.query_one("#ws-route", Select).set_options([(route_label(r), r.path) for r in routes])
        if note:
            self._note(note)

    @work(group="ws-tools", exit_on_error=False, name="list_users")
    async def list_users(self) -> None:
        from ..runtime.tools import ToolFailed, list_users

        result = await list_users(**self._tool_kwargs())
        names = [] if isinstance(result, ToolFailed) else list(result)
        self.query_one("#ws-user", Input).suggester = SuggestFromList(names)

    @on(Input.Submitted, "#ws-user")
    def _user_submitted(self, event: Input.Submitted) -> None:
        username = event.value.strip()
        if not username:
            self.cookies.clear()
            self._note("Logged out: new connections send no session cookie.")
        elif self.config is None:
            self._error("No project to log in to.")
        else:
            self.log_in_as(username)

    @work(group="ws-tools", exit_on_error=False, name="log_in_as_user")
    async def log_in_as(self, username: str) -> None:
        from ..runtime.tools import ToolFailed
        from ..runtime.tools import log_in_as as new_session

        result = await new_session(username, **self._tool_kwargs())
        if isinstance(result, ToolFailed):
            self._error(result.error)
            return
        self.cookies = {result.cookie_name: result.cookie_value}
        self._note(
            f"Created a new Django session for '{result.user}' in the project's session "
            f"store; connections now send {result.cookie_name}=… (reconnect to use it)."
        )

    def _tool_kwargs(self) -> dict[str, Any]:
        from ..runtime.launch import child_env

        config = self.config
        assert config is not None
        return {
            "project_dir": str(config.project_dir),
            "settings_module": config.settings_module,
            "app": config.app,
            # The server's environment, the project's .env included: same database.
            "env": child_env(config),
        }
