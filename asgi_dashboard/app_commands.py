"""The command palette's entries and the screens the app's keys open (help, m, b, R).

Kept out of :mod:`asgi_dashboard.app` so that module is its lifecycle and event pump:
:class:`AppActions` is a base class of the app holding those actions. The diagnostics screens
live in screens/audit.py, compare.py and replay.py; the latest audit is the model's
(``Dashboard.audit``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import TabbedContent

from .events import MiddlewareAudit, RequestFinished
from .screens.detail import RequestDetailScreen
from .screens.help import HelpScreen

if TYPE_CHECKING:
    from .app import DashboardApp
    from .config import DashboardConfig
    from .editor import Location
    from .model import Dashboard
    from .screens.main import MainScreen


class AppActions(App[int]):
    """The app's actions that open screens (the base class of DashboardApp)."""

    model: Dashboard
    config: DashboardConfig
    _main: MainScreen

    @property
    def main_screen(self) -> MainScreen:
        """The dashboard screen (always at the bottom of the stack)."""
        return self._main

    @property
    def latest_audit(self) -> MiddlewareAudit | None:
        """The newest MiddlewareAudit the server reported (one per server start)."""
        return self.model.audit

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_middleware_audit(self) -> None:
        open_middleware_audit(self)

    def action_compare_views(self) -> None:
        open_compare(self)

    def action_replay_request(self) -> None:
        open_replay(self)

    def action_open_in_editor(self) -> None:
        open_in_editor(self)

    def action_write_test(self) -> None:
        open_write_test(self)


def system_commands(app: DashboardApp, screen: Screen[Any]) -> Iterable[SystemCommand]:
    """The app's own entries, after Textual's (see :meth:`DashboardApp.get_system_commands`)."""
    yield from diagnostics_commands(app, screen)
    yield SystemCommand(
        "Restart server", "Stop and start the project's server (r)", app.action_restart_server
    )
    yield SystemCommand("Help", "Keys and the filter language (?)", app.action_help)
    main = app.main_screen

    def tab(name: str) -> Callable[[], None]:
        return lambda: main.action_show_tab(name)

    commands: tuple[tuple[str, str, Callable[[], object]], ...] = (
        ("Filter requests", "Focus the filter bar (/)", main.action_focus_filter),
        ("Follow newest request", "Jump to the newest row and follow (f)", main.action_follow),
        ("Toggle static files", "Show or hide static file requests (s)", main.action_toggle_static),
        (
            "Order requests by start / finish time",
            "Start order puts a view above its sub-requests; finish order appends (o)",
            main.action_toggle_order,
        ),
        (
            "Pause / resume log",
            "Freeze the request log; events are still recorded (p)",
            main.action_toggle_pause,
        ),
        ("Clear log", "Forget the request log and per-view stats (ctrl+l)", main.action_clear_log),
        ("Export HAR", "Save the filtered log as HAR 1.2 (e)", main.action_export_har),
        ("Copy server URL", "Copy the server's URL to the clipboard (u)", main.action_copy_url),
        ("Maximize panel", "Give the focused panel the whole screen (z)", main.action_maximize),
        ("Show requests", "Requests tab (1)", tab("requests")),
        ("Show per-view stats", "Views tab (2)", tab("views")),
        ("Show console", "Console tab (3)", tab("console")),
        ("Show WebSocket panel", "WebSocket tab (4)", tab("websocket")),
    )
    if screen is main:
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        yield from ws_commands(main)
    if isinstance(screen, RequestDetailScreen) and screen.curl:
        yield SystemCommand(
            "Copy as curl", "Copy this request as a curl command (c)", screen.action_copy_curl
        )
    if isinstance(screen, RequestDetailScreen) and screen.websocat:
        yield SystemCommand(
            "Copy websocat command",
            "Copy a websocat command that opens this WebSocket connection (c)",
            screen.action_copy_websocat,
        )


def ws_commands(main: Any) -> Iterable[SystemCommand]:
    """The WebSocket panel's actions; each opens the WebSocket tab first."""
    from .widgets.ws_panel import WebSocketPanel

    def run(action: str) -> Callable[[], None]:
        def callback() -> None:
            main.action_show_tab("websocket")
            getattr(main.query_one(WebSocketPanel), f"action_{action}")()

        return callback

    for title, help_text, action in (
        (
            "WebSocket: connect / close",
            "Connect or close the current session (ctrl+o)",
            "toggle_connection",
        ),
        ("WebSocket: new session", "A new client session in its own tab (ctrl+n)", "new_session"),
        ("WebSocket: send message", "Send the message box's text (ctrl+j)", "send"),
        ("WebSocket: ping", "Ping the server and show the round trip (ctrl+g)", "ping"),
        (
            "WebSocket: options row",
            "Fold or unfold headers, subprotocols, user (ctrl+t)",
            "toggle_options",
        ),
    ):
        yield SystemCommand(title, help_text, run(action))


def diagnostics_commands(app: AppActions, screen: Screen[Any]) -> Iterable[SystemCommand]:
    yield SystemCommand(
        "Middleware audit",
        "MIDDLEWARE as Django's async handler runs it: thread hops per request and fixes (m)",
        app.action_middleware_audit,
    )
    yield SystemCommand(
        "Compare views under load",
        "Fire N requests at concurrency C at one or two URLs, side by side (b)",
        app.action_compare_views,
    )
    if screen is app.main_screen or isinstance(screen, RequestDetailScreen):
        yield SystemCommand(
            "Open in editor",
            "The selected request's error or view, the startup error or the newest blocked-loop"
            " report, at its line in $VISUAL/$EDITOR (E)",
            app.action_open_in_editor,
        )
        yield SystemCommand(
            "Replay request",
            "Re-send the selected request and diff the answer (R)",
            app.action_replay_request,
        )
        yield SystemCommand(
            "Write test",
            "A pytest test that replays the selected request or WebSocket connection (t)",
            app.action_write_test,
        )


def open_middleware_audit(app: AppActions) -> None:
    from .screens.audit import MiddlewareAuditScreen

    if not isinstance(app.screen, MiddlewareAuditScreen):
        app.push_screen(MiddlewareAuditScreen(app.model.audit))


def open_compare(app: AppActions) -> None:
    from .screens.compare import CompareScreen

    if isinstance(app.screen, CompareScreen):
        return
    routes = [row.route for row in app.model.views.rows(sort="count") if row.route]
    history = app.model.history
    app.push_screen(
        CompareScreen(
            app.main_screen.base_url(),
            routes,
            lambda: [
                item.entry for item in history.last(5000) if isinstance(item.entry, RequestFinished)
            ],
            demo=app.config.is_demo,
        )
    )


def open_replay(app: AppActions) -> None:
    from .screens.replay import ReplayScreen

    screen = app.screen
    entry: object = screen.entry if isinstance(screen, RequestDetailScreen) else None
    if screen is app.main_screen:
        item = app.main_screen.request_log.item_at_cursor()
        entry = item.entry if item is not None else None
    if not isinstance(entry, RequestFinished):
        app.notify("Select an HTTP request to replay.", severity="warning", timeout=3)
        return
    app.push_screen(ReplayScreen(entry, app.main_screen.base_url()))


def open_write_test(app: AppActions) -> None:
    """The "Write test" dialog for the request (or connection) selected or shown in detail."""
    from .model import WsConnection
    from .model.ws import ServerConnection
    from .screens.testgen import ask_and_write

    screen = app.screen
    entry: object = screen.entry if isinstance(screen, RequestDetailScreen) else None
    if screen is app.main_screen:
        if app.main_screen.query_one(TabbedContent).active == "websocket":
            open_write_ws_test(app)
            return
        item = app.main_screen.request_log.item_at_cursor()
        entry = item.entry if item is not None else None
    target: RequestFinished | ServerConnection | None = None
    if isinstance(entry, RequestFinished):
        target = entry
    elif isinstance(entry, WsConnection):
        target = app.model.ws.connections.get(entry.id)
        if target is None:
            app.notify("This connection's frames are no longer kept.", severity="warning")
            return
    if target is None:
        app.notify("Select a request or a WebSocket connection first.", severity="warning")
        return
    ask_and_write(app, target, app.config.project_dir)


def open_write_ws_test(app: AppActions) -> None:
    """On the WebSocket tab: the test of the panel's current session's connection."""
    from .screens.testgen import ask_and_write
    from .widgets.ws_panel import WebSocketPanel

    session = app.main_screen.query_one(WebSocketPanel).current
    conn = app.model.ws.for_client(session.id) if session is not None else None
    if conn is None:
        app.notify("Connect this session first: its connection is what the test replays.")
        return
    ask_and_write(app, conn, app.config.project_dir)


def editor_target(app: AppActions) -> tuple[Location | None, str]:
    """Where the editor key opens on the current screen, or None and why not."""
    from .editor import event_location, frame_location, view_location

    roots = [app.config.project_dir]
    screen = app.screen
    if isinstance(screen, RequestDetailScreen):
        return event_location(screen.entry, roots), "this request has no error frame or view"
    if screen is not app.main_screen:
        return None, "open a request first"
    main = app.main_screen
    failure = app.model.status.failure
    if main.error_panel.display and failure is not None and failure.error is not None:
        return frame_location(failure.error.frame), "the error has no frame in the project"
    tab = main.query_one(TabbedContent).active
    if tab == "views":
        view = main.view_stats.view_at_cursor()
        found = view_location(view, roots) if view else None
        return found, f"{view or 'this row'} is not in the project's files"
    if tab == "console":
        return event_location(app.model.blocked), "no blocked-loop report with a frame yet"
    if tab != "requests":
        return None, "E works on the Requests, Views and Console tabs and in a request's detail"
    item = main.request_log.item_at_cursor()
    return (
        event_location(item.entry if item else None, roots),
        "select a request with an error or a view in the project",
    )


def open_in_editor(app: AppActions) -> None:
    """Open the code behind what is selected in $VISUAL/$EDITOR, the terminal handed over."""
    import subprocess

    from textual.app import SuspendNotSupported

    from .editor import NoEditor, editor_command

    location, why_not = editor_target(app)
    if location is None:
        app.notify(f"Nothing to open: {why_not}.", severity="warning", timeout=4)
        return
    try:
        command = editor_command(location)
    except NoEditor as exc:
        app.notify(str(exc), severity="error", timeout=8)
        return
    try:
        try:
            with app.suspend():
                code = subprocess.run(command.argv, check=False).returncode
        except SuspendNotSupported:  # no terminal to hand over (headless, web): run it as is
            code = subprocess.run(command.argv, check=False, stdin=subprocess.DEVNULL).returncode
    except OSError as exc:
        app.notify(f"Could not run ${command.source} ({command.argv[0]}): {exc}", severity="error")
        return
    if code:
        app.notify(f"{command.argv[0]} exited with status {code}", severity="warning", timeout=4)
    else:
        app.notify(f"Opened {location} ({command.source})", timeout=2)
