"""The WebSocket panel: client sessions against the project, beside the server's own record.

Top: the project's WebSocket routes (discovered from its Channels routing by
:mod:`asgi_dashboard.runtime.tools`), the URL, connect options (extra headers, subprotocols,
Origin on/off, auto-reconnect) and "log in as" a Django user, which creates a session in the
project's session store. Middle: one tab per client session; the client's frame log on the left,
the server-side record of the same connection on the right (linked through the marker header the
client sends). Bottom: a multi-line editor with a send mode (text, JSON, hex, base64), a history
of sent messages, messages saved per route, ping and close with a code and reason.

Feeding it (the main screen's job): :meth:`WebSocketPanel.show_changes` with each batch's
:class:`~asgi_dashboard.model.ChangeSet`; the server-side records are the model's
(``Dashboard.ws``, handed in as ``records``), and a ``ServerStarted`` carries the URL and tells
sessions to reconnect after a reload. The client sessions are plain asyncio
(:mod:`asgi_dashboard.wsclient`); their updates arrive here as
:class:`WebSocketPanel.SessionUpdated` messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Select, Static, Tab, Tabs, TextArea

from ..config import DashboardConfig
from ..events import ServerStarted
from ..model import ChangeSet, ServerRecords
from ..wsclient import ClientSession, OutgoingMessage, SessionOptions, SessionUpdate
from ..wsframes import SEND_MODES, FrameRecord, PayloadError, SendMode, encode_payload
from .palette import Palette
from .ws_forms import parse_headers, parse_subprotocols, unfilled_params, ws_base
from .ws_panel_support import PanelSupport
from .ws_views import FrameLog, ServerSideView

if TYPE_CHECKING:
    from ..runtime.tools import WsRoute

#: The panel's styles live in a .tcss file; loading them as the widget's default CSS means the
#: app needs no CSS_PATH entry for them and its own app.tcss still overrides any rule.
_TCSS = Path(__file__).resolve().parent.parent / "ws_panel.tcss"


class WebSocketPanel(PanelSupport):
    """WebSocket client sessions and the server's view of each connection."""

    DEFAULT_CSS = _TCSS.read_text(encoding="utf-8")
    #: Focusable itself: Escape moves focus from a field to the panel, so the footer keeps
    #: showing the panel's keys while 1-5, q and ? reach the screen and the app again.
    can_focus = True

    BINDINGS = [
        Binding("ctrl+j", "send", "Send"),
        Binding("ctrl+o", "toggle_connection", "Connect"),
        Binding("ctrl+n", "new_session", "New WS"),
        Binding("ctrl+g", "ping", "Ping"),
        Binding("ctrl+t", "toggle_options", "Options", show=False),
        # Only reaches the panel when no field has focus (a field types the letter).
        Binding("i", "focus_message", "Message"),
        # Leave the message box or a field so the app's keys (1-5, q, ?) work again.
        Binding("escape", "release_focus", "Leave field", show=False),
        Binding("ctrl+up", "history(-1)", "Previous message", show=False),
        Binding("ctrl+down", "history(1)", "Next message", show=False),
    ]

    class SessionUpdated(Message):
        """A client session reported a frame, a handshake outcome or a state change."""

        def __init__(self, session: ClientSession, update: SessionUpdate) -> None:
            super().__init__()
            self.session = session
            self.update = update

    def __init__(
        self,
        *,
        config: DashboardConfig | None = None,
        records: ServerRecords | None = None,
        server_url: str | None = None,
        runtime_url: Callable[[], str | None] | None = None,
        discover: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.config = config
        #: http://host:port of the dashboard's server, once known.
        self.server_url = server_url
        #: The runtime's URL as soon as it is bound (before its ServerStarted arrives).
        self.runtime_url = runtime_url
        #: Run the route/user discovery tools on mount (tests turn it off).
        self.discover = discover
        self.sessions: dict[str, ClientSession] = {}
        self.active: str | None = None
        #: The model's server-side connection records (a panel of its own keeps its own).
        self.records = records if records is not None else ServerRecords()
        self.routes: Sequence[WsRoute] = ()
        self.cookies: dict[str, str] = {}
        #: Messages saved per route path template (or URL when no route is chosen).
        self.saved: dict[str, list[OutgoingMessage]] = {}
        self.history: list[tuple[str, SendMode]] = []
        self._history_pos = 0
        self._generation: int | None = None
        self._tab_numbers = 0
        self.palette = Palette()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # One-line compact form rows: at 80x24 the frames get the space (ws_panel.tcss).
        with Horizontal(id="ws-target"):
            yield Select[str]([], prompt="Routes", id="ws-route", compact=True)
            yield Input(
                self._default_url(), placeholder="ws://host:port/path", id="ws-url", compact=True
            )
            yield Button("Connect", id="ws-connect", variant="primary", compact=True)
            yield Button("New", id="ws-new", compact=True)
            yield Button("Options", id="ws-options-toggle", compact=True)
        with Horizontal(id="ws-options"):
            yield Input(placeholder="Headers  Name: v; …", id="ws-headers", compact=True)
            yield Input(placeholder="Subprotocols  a, b", id="ws-subprotocols", compact=True)
            yield Input(placeholder="Log in as user", id="ws-user", compact=True)
            yield Checkbox("Origin", True, id="ws-origin", compact=True)
            yield Checkbox("Reconnect", True, id="ws-reconnect", compact=True)
        yield Tabs(id="ws-sessions")
        yield Static("No connection yet: pick a route or type a URL, then Connect.", id="ws-state")
        with Horizontal(id="ws-body"):
            yield FrameLog(id="ws-client-frames", wrap=True, markup=False, min_width=1)
            yield ServerSideView(id="ws-server")
        with Horizontal(id="ws-composer"):
            yield TextArea(id="ws-message", soft_wrap=True, show_line_numbers=False, compact=True)
            with Vertical(id="ws-send-controls"):
                yield Select[str](
                    [(m, m) for m in SEND_MODES],
                    value="text",
                    allow_blank=False,
                    id="ws-mode",
                    compact=True,
                )
                yield Checkbox("On connect", False, id="ws-on-connect", compact=True)
                yield Button("Send ^j", id="ws-send", variant="success", compact=True)
        with Horizontal(id="ws-actions"):
            yield Button("Ping", id="ws-ping", compact=True)
            yield Input("1000", placeholder="code", id="ws-close-code", compact=True)
            yield Input(placeholder="close reason", id="ws-close-reason", compact=True)
            yield Button("Close", id="ws-close", variant="warning", compact=True)
            yield Button("Save", id="ws-save", compact=True)
            yield Select[int]([], prompt="Saved messages", id="ws-saved", compact=True)
        yield Static("", id="ws-error")

    def on_mount(self) -> None:
        self.palette = Palette.from_app(self.app)
        self.query_one(FrameLog).border_title = "Client frames"
        self.query_one(ServerSideView).border_title = "Server side (consumer)"
        self._poll_server_url()
        if self.discover and self.config is not None:
            self.discover_routes()
            self.list_users()

    def on_resize(self) -> None:
        # Three rows for the message at 80x24; more where the frames have room to spare.
        self.query_one("#ws-composer").styles.height = 3 if self.size.height < 34 else 6
        # The URL gets the columns at 80 wide; the picker's list opens wider anyway.
        self.query_one("#ws-route").styles.width = 18 if self.size.width < 100 else 28

    def on_show(self) -> None:
        self.on_resize()
        if self.active is not None:
            # Frames that arrived while the tab was hidden were laid out without a width.
            self._activate(self.active)
        self._poll_server_url()
        if self.screen.focused is None or not self.screen.focused.is_attached:
            self.focus()  # the footer shows the panel's keys as soon as the tab is open

    def _poll_server_url(self) -> None:
        # Without the event feed the runtime still knows its URL (Runtime.url, set once bound).
        url = self.runtime_url() if self.runtime_url is not None else None
        if url:
            self._set_server_url(url)

    def _set_server_url(self, url: str) -> None:
        """A new server URL; the URL field follows it unless the user typed another one."""
        url_input = self.query_one("#ws-url", Input)
        old_default = self._default_url()
        self.server_url = url
        if not url_input.value or url_input.value == old_default:
            url_input.value = self._default_url()

    def _default_url(self) -> str:
        return ws_base(self.server_url) + "/" if self.server_url else ""

    # -- the app feeds these --------------------------------------------------------------------

    def show_changes(self, changes: ChangeSet) -> None:
        """A batch's changes (server starts and server-side WebSocket records matter here)."""
        for event in changes.started:
            self._server_started(event)
        session = self.current
        if changes.ws_changed and session is not None:
            history = self.records.history_for_client(session.id)
            if any(conn.id in changes.ws_changed for conn in history):
                self.query_one(ServerSideView).show(history, self.palette)

    def _server_started(self, event: ServerStarted) -> None:
        self._set_server_url(event.url)
        restarted = self._generation is not None and event.generation != self._generation
        self._generation = event.generation
        if restarted:
            for session in self.sessions.values():
                session.server_restarted()

    # -- sessions -----------------------------------------------------------------------------

    @property
    def current(self) -> ClientSession | None:
        return self.sessions.get(self.active) if self.active else None

    def _options(self) -> SessionOptions:
        opts = SessionOptions(url=self.query_one("#ws-url", Input).value.strip())
        self._apply_form(opts)
        return opts

    def _apply_form(self, opts: SessionOptions) -> None:
        opts.url = self.query_one("#ws-url", Input).value.strip()
        opts.headers = parse_headers(self.query_one("#ws-headers", Input).value)
        opts.subprotocols = parse_subprotocols(self.query_one("#ws-subprotocols", Input).value)
        opts.origin = "auto" if self.query_one("#ws-origin", Checkbox).value else None
        opts.auto_reconnect = self.query_one("#ws-reconnect", Checkbox).value
        opts.cookies = dict(self.cookies)

    def new_session(self) -> ClientSession:
        """Add a session tab (not connected yet) and make it the current one."""
        self._tab_numbers += 1
        tab_id = f"ws-session-{self._tab_numbers}"
        session = ClientSession(self._options(), self._listener, name=str(self._tab_numbers))
        self.sessions[tab_id] = session
        self.query_one(Tabs).add_tab(Tab(self._tab_label(session), id=tab_id))
        self._activate(tab_id)
        return session

    def _listener(self, session: ClientSession, update: SessionUpdate) -> None:
        self.post_message(self.SessionUpdated(session, update))

    def _tab_id(self, session: ClientSession) -> str | None:
        return next((k for k, s in self.sessions.items() if s is session), None)

    def _tab_label(self, session: ClientSession) -> str:
        mark = {"open": "●", "connecting": "…", "reconnecting": "↻", "failed": "✕"}.get(
            session.state, "○"
        )
        return f"{mark} {session.name} {session.state}"

    def _activate(self, tab_id: str) -> None:
        self.active = tab_id
        tabs = self.query_one(Tabs)
        if tabs.active != tab_id:
            tabs.active = tab_id
        session = self.sessions[tab_id]
        self.query_one(FrameLog).show(session.frames, self.palette)
        history = self.records.history_for_client(session.id)
        self.query_one(ServerSideView).show(history, self.palette)
        self._show_state(session)

    def _show_state(self, session: ClientSession) -> None:
        hs = session.handshake
        line = Text.assemble((f"{session.name}: ", "bold"), (session.state, "bold"))
        if hs is not None:
            colour = self.palette.success if hs.ok else self.palette.error
            line.append(f"  {hs.message}", style=colour)
        if session.state == "closed" and session.close_code is not None:
            line.append(f"  close {session.close_code} {session.close_reason}".rstrip())
        line.append(f"  {session.options.url}", style=self.palette.muted)
        self.query_one("#ws-state", Static).update(line)

    @on(Tabs.TabActivated, "#ws-sessions")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab.id in self.sessions and event.tab.id != self.active:
            self._activate(event.tab.id)

    @on(SessionUpdated)
    def _session_updated(self, message: SessionUpdated) -> None:
        session, update = message.session, message.update
        tab_id = self._tab_id(session)
        if tab_id is None:
            return
        self.query_one(Tabs).query_one(f"#{tab_id}", Tab).label = self._tab_label(session)
        if tab_id != self.active:
            return
        if isinstance(update, FrameRecord):
            self.query_one(FrameLog).add(update, self.palette)
        else:
            self._show_state(session)

    # -- actions ------------------------------------------------------------------------------

    def action_new_session(self) -> None:
        self.new_session()

    def action_toggle_connection(self) -> None:
        session = self.current
        if session is not None and session.state in ("open", "connecting", "reconnecting"):
            self.close_session(session, 1000, "")
        else:
            self.connect()

    def connect(self) -> None:
        """Connect the current session (a new one if there is none) with the form's options."""
        self._poll_server_url()
        url = self.query_one("#ws-url", Input).value.strip()
        missing = unfilled_params(url)
        if missing:
            self._error(f"Fill in the URL parameter(s) {', '.join(missing)} first.")
            return
        session = self.current
        if session is None or session.state in ("open", "connecting"):
            session = self.new_session()
        self._apply_form(session.options)
        self._note("")
        self.connect_session(session)

    @work(group="ws-connect", exit_on_error=False, name="connect_ws_session")
    async def connect_session(self, session: ClientSession) -> None:
        await session.connect()

    @work(group="ws-close", exit_on_error=False, name="close_ws_session")
    async def close_session(self, session: ClientSession, code: int, reason: str) -> None:
        await session.close(code, reason)

    def action_send(self) -> None:
        area = self.query_one("#ws-message", TextArea)
        mode: SendMode = self.query_one("#ws-mode", Select).value  # type: ignore[assignment]
        text = area.text
        try:
            encode_payload(text, mode)  # validation before anything is sent
        except PayloadError as exc:
            self._error(str(exc))
            return
        session = self.current
        if session is None or session.state != "open":
            self._error("Not connected: Connect first (ctrl+o).")
            return
        if self.query_one("#ws-on-connect", Checkbox).value:
            session.options.on_connect.append(OutgoingMessage(text, mode, on_connect=True))
        if not self.history or self.history[-1] != (text, mode):
            self.history.append((text, mode))
        self._history_pos = len(self.history)
        self._note("")
        self.send_message(session, text, mode)

    @work(group="ws-send", exit_on_error=False, name="send_ws_message")
    async def send_message(self, session: ClientSession, text: str, mode: SendMode) -> None:
        try:
            await session.send(text, mode)
        except (PayloadError, ConnectionError) as exc:
            self._error(str(exc))

    def action_ping(self) -> None:
        session = self.current
        if session is None or session.state != "open":
            self._error("Not connected: nothing to ping.")
            return
        self.ping_session(session)

    @work(group="ws-ping", exit_on_error=False, name="ping_ws_session")
    async def ping_session(self, session: ClientSession) -> None:
        try:
            rtt = await session.ping()
        except (TimeoutError, ConnectionError) as exc:
            self._error(f"Ping failed: {exc or 'no pong in time'}")
            return
        self._note(f"pong in {rtt * 1000:.2f} ms")

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {
            "ws-connect": self.action_toggle_connection,
            "ws-new": self.action_new_session,
            "ws-options-toggle": self.action_toggle_options,
            "ws-send": self.action_send,
            "ws-ping": self.action_ping,
            "ws-close": self._close_from_form,
            "ws-save": self._save_message,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    async def on_unmount(self) -> None:
        for session in self.sessions.values():
            await session.aclose()
