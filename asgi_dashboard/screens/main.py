"""The main screen: status bar, startup-error panel, and the Requests / Views / Console /
WebSocket tabs.

The app ingests event batches into the model (:class:`~asgi_dashboard.model.Dashboard`) and
posts each batch's :class:`~asgi_dashboard.model.ChangeSet` here
(:class:`MainScreen.EventsIngested`); this screen hands each widget what changed. It owns the
log's view state: the filter, the static toggle, pause, and follow. Everything it and its widgets
need from the app comes in as typed constructor arguments.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static, TabbedContent, TabPane

from ..config import DashboardConfig
from ..events import RequestFinished
from ..filters import EMPTY, Filter
from ..har import Exportable, WsExport, default_filename, write_har
from ..model import ChangeSet, Dashboard, LogItem, WsConnection
from ..model.rows import empty_log_hint
from ..widgets.console import ConsoleLog
from ..widgets.error_panel import StartupErrorPanel
from ..widgets.filter_bar import FilterBar
from ..widgets.footer import StableFooter
from ..widgets.palette import Palette
from ..widgets.reload_timeline import ReloadTimeline
from ..widgets.request_log import RequestLog
from ..widgets.status_bar import StatusBar
from ..widgets.view_stats import ViewStatsTable
from ..widgets.ws_panel import WebSocketPanel
from .detail import RequestDetailScreen
from .export import ExportChoice, ExportDialog

TABS = ("requests", "views", "console", "websocket", "reloads")


class MainScreen(Screen[None]):
    """The dashboard."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("f", "follow", "Follow"),
        Binding("s", "toggle_static", "Static"),
        Binding("o", "toggle_order", "Order", show=False),
        Binding("p", "toggle_pause", "Pause"),
        Binding("ctrl+l", "clear_log", "Clear"),
        Binding("e", "export_har", "Export HAR"),
        Binding("d", "dismiss_error", "Hide error"),
        Binding("escape", "leave_filter", "Back"),
        Binding("1", "show_tab('requests')", "Requests", show=False),
        Binding("2", "show_tab('views')", "Views", show=False),
        Binding("3", "show_tab('console')", "Console", show=False),
        Binding("4", "show_tab('websocket')", "WebSocket", show=False),
        Binding("5", "show_tab('reloads')", "Reloads", show=False),
        Binding("z", "screen.maximize", "Maximize", show=False),
        Binding("u", "copy_url", "Copy URL", show=False),
        Binding("t", "app.write_test", "Write test", show=False),
    ]

    class EventsIngested(Message, bubble=False):
        """The model took in a batch; ``changes`` says what changed (for this screen only)."""

        def __init__(self, changes: ChangeSet) -> None:
            super().__init__()
            self.changes = changes

    def __init__(
        self,
        model: Dashboard,
        clock: Callable[[], float],
        *,
        config: DashboardConfig,
        runtime_url: Callable[[], str | None] = lambda: None,
        max_rows: int | None = None,
        discover: bool = True,
    ) -> None:
        super().__init__(id="main")
        self.model = model
        self.clock = clock
        self.config = config
        #: The runtime's URL once bound (the WebSocket panel uses it before ServerStarted).
        self.runtime_url = runtime_url
        #: Let the WebSocket panel run its project tools (routes, users); off in scripted tests.
        self.discover = discover
        #: The log shows the whole history by default: it renders only the rows on screen, so
        #: 5000 rows cost a list of references, and a rebuild scans the ring buffer once.
        self.max_rows = model.history.capacity if max_rows is None else max_rows
        self.filter: Filter = EMPTY
        self.show_static = False
        self.paused = False
        self.unseen_while_paused = 0
        self.palette = Palette()

    def compose(self) -> ComposeResult:
        yield StatusBar(self.clock, id="status-bar")
        yield StartupErrorPanel(id="startup-error")
        with TabbedContent(initial="requests", id="tabs"):
            with TabPane("Requests", id="requests"):
                yield FilterBar(id="filter-bar")
                yield Static(id="log-info")
                yield Static(id="log-empty")
                yield RequestLog(max_rows=self.max_rows, id="request-log")
            with TabPane("Views", id="views"):
                yield ViewStatsTable(self.model.views, id="view-stats")
            with TabPane("Console", id="console"):
                yield ConsoleLog(id="console-log")
            with TabPane("WebSocket", id="websocket"):
                yield WebSocketPanel(
                    config=self.config,
                    records=self.model.ws,
                    runtime_url=self.runtime_url,
                    discover=self.discover,
                    id="ws-panel",
                )
            with TabPane("Reloads", id="reloads"):
                yield ReloadTimeline(
                    project_dir=str(self.config.project_dir),
                    watch_text=self.model.watch_text,
                    id="reload-timeline",
                )
        # Compact: the whole key map fits the footer at 100 columns.
        yield StableFooter(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "theme", self._theme_changed, init=False)
        self._apply_palette()
        self.request_log.focus()
        self._update_info()

    # -- widget accessors -----------------------------------------------------------------------

    @property
    def request_log(self) -> RequestLog:
        return self.query_one("#request-log", RequestLog)

    @property
    def view_stats(self) -> ViewStatsTable:
        return self.query_one("#view-stats", ViewStatsTable)

    @property
    def console(self) -> ConsoleLog:
        return self.query_one("#console-log", ConsoleLog)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one("#status-bar", StatusBar)

    @property
    def error_panel(self) -> StartupErrorPanel:
        return self.query_one("#startup-error", StartupErrorPanel)

    # -- model updates --------------------------------------------------------------------------

    def shows(self, item: LogItem) -> bool:
        if item.is_static and not (self.show_static or self.filter.wants_static):
            return False
        return self.filter.matches(item)

    @on(EventsIngested)
    def _ingested(self, message: EventsIngested) -> None:
        changes = message.changes
        model = self.model
        self.status_bar.show(model.status, self.palette, paused=self.paused)
        # A worker column once two workers (--workers N) have served; one process: as before.
        self.request_log.show_workers(model.status.multi_worker)
        if changes.failure is not None and model.status.state == "failed":
            self.error_panel.show_failure(changes.failure)
        elif changes.started:
            self.error_panel.hide()
        if changes.started:
            self._update_empty_hint()
        if changes.console:
            self.console.add_events(changes.console)
        if changes.reloads_changed or changes.watching_changed:
            timeline = self.query_one(ReloadTimeline)
            timeline.show_changes(changes, model.reloads.rows, model.watch_text)
        if changes.started or changes.ws_changed:
            self.query_one(WebSocketPanel).show_changes(changes)
        shown = [item for item in changes.new_items if self.shows(item)]
        if self.paused:
            self.unseen_while_paused += len(shown)
        else:
            self.request_log.append(shown)
            if changes.updated_items:
                self.request_log.update_items(changes.updated_items)
        if changes.log_changed:
            self._update_info()

    def rebuild_log(self) -> None:
        """Show the history again through the current filter and toggles."""
        self.request_log.reset(self.model.items_matching(self.shows, self.max_rows))
        self._update_info()

    def _update_info(self) -> None:
        log = self.request_log
        p = self.palette
        parts = []
        if self.paused:
            unseen = self.unseen_while_paused
            parts.append(f"[bold {p.warning}]⏸ paused[/] ({unseen} new; p resumes)")
        elif log.following:
            parts.append(f"[{p.success}]● following newest[/]")
        else:
            parts.append(f"[{p.warning}]○ not following[/] (f or End follows)")
        history = self.model.history
        parts.append(f"{log.row_count} shown · {len(history)} in history")
        if history.evicted and len(history) >= history.capacity:
            parts.append(f"{history.evicted} older dropped (--history {history.capacity})")
        elif log.row_count >= self.max_rows and self.max_rows < len(history):
            parts.append(f"newest {self.max_rows} rows only")
        if log.order == "start":
            parts.append("by start time (o)")
        if self.filter.wants_static:
            parts.append("static shown (kind:static)")
        else:
            parts.append("static shown (s)" if self.show_static else "static hidden (s)")
        if not self.filter.is_empty:
            parts.append(f"filter: {self.filter.text}")
        # One line of fixed size (app.tcss): no layout pass for a new text (~45 ms under load).
        self.query_one("#log-info", Static).update("  │  ".join(parts), layout=False)
        self._update_empty_hint()

    def _update_empty_hint(self) -> None:
        """Where to send a first request, while the history is empty (hidden after that)."""
        hint = self.query_one("#log-empty", Static)
        empty = len(self.model.history) == 0
        if empty:
            url = self.model.status.url or self.runtime_url()
            hint.update("\n".join(empty_log_hint(url, is_demo=self.config.is_demo)))
        if hint.display != empty:
            hint.display = empty

    # -- palette and layout ---------------------------------------------------------------------

    def _theme_changed(self) -> None:
        self._apply_palette()
        self.rebuild_log()
        self.view_stats.refresh_stats()

    def _apply_palette(self) -> None:
        self.palette = Palette.from_app(self.app)
        self.request_log.palette = self.palette
        self.view_stats.palette = self.palette
        self.console.palette = self.palette
        self.status_bar.show(self.model.status, self.palette, paused=self.paused)

    def on_resize(self, event: Resize) -> None:
        self.request_log.relayout(event.size.width)
        self.view_stats.relayout(event.size.width)

    # -- log events -----------------------------------------------------------------------------

    @on(RequestLog.Opened)
    def _open_detail(self, event: RequestLog.Opened) -> None:
        entry = event.item.entry
        if isinstance(entry, RequestFinished | WsConnection):
            self.app.push_screen(RequestDetailScreen(entry, self.base_url(), self.palette))

    @on(RequestLog.FollowChanged)
    def _follow_changed(self, _: RequestLog.FollowChanged) -> None:
        self._update_info()

    @on(FilterBar.Changed)
    def _filter_changed(self, event: FilterBar.Changed) -> None:
        self.filter = event.filter
        self.rebuild_log()

    # -- actions --------------------------------------------------------------------------------

    def action_focus_filter(self) -> None:
        self.query_one(TabbedContent).active = "requests"
        self.query_one(FilterBar).input.focus()

    def action_leave_filter(self) -> None:
        if self.maximized is not None:
            self.minimize()
        elif isinstance(self.focused, Input):
            self.request_log.focus()

    def action_follow(self) -> None:
        self.query_one(TabbedContent).active = "requests"
        if self.paused:
            self.action_toggle_pause()
        self.request_log.follow()
        self.request_log.focus()
        self._update_info()

    def action_toggle_static(self) -> None:
        self.show_static = not self.show_static
        self.notify(
            "Static files shown" if self.show_static else "Static files hidden", timeout=1.5
        )
        self.rebuild_log()

    def action_toggle_order(self) -> None:
        """Rows by finish time (default) or by start time (a fan-out above its sub-requests)."""
        log = self.request_log
        log.order = "start" if log.order == "finish" else "finish"
        self.notify(f"Rows in {log.order}-time order", timeout=1.5)
        self.rebuild_log()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self.unseen_while_paused = 0
            self.rebuild_log()
        self.status_bar.show(self.model.status, self.palette, paused=self.paused)
        self._update_info()

    def action_clear_log(self) -> None:
        self.model.clear()
        self.unseen_while_paused = 0
        self.rebuild_log()
        self.view_stats.refresh_stats()
        self.notify("Log and per-view stats cleared", timeout=1.5)

    def action_show_tab(self, tab: str) -> None:
        if tab in TABS:
            self.query_one(TabbedContent).active = tab
            target = {
                "requests": self.request_log,
                "views": self.view_stats,
                "console": self.console,
            }.get(tab)
            if target is not None:
                target.focus()

    def base_url(self) -> str:
        """The running server's URL (for HAR and curl), or the configured address."""
        if self.model.status.url:
            return self.model.status.url
        return f"http://{self.config.host}:{self.config.port}"

    def action_export_har(self) -> None:
        # Snapshot the filtered rows (and frames) now: what the user sees is what gets exported.
        items: list[Exportable] = []
        for item in self.model.history:
            if not self.shows(item):
                continue
            if isinstance(item.entry, RequestFinished):
                items.append(item.entry)
            else:
                record = self.model.ws.connections.get(item.entry.id)
                items.append(WsExport(item.entry, tuple(record.frames) if record else ()))
        if not items:
            self.notify("Nothing to export: no requests match the filter", severity="warning")
            return

        def chosen(choice: ExportChoice | None) -> None:
            if choice is not None:
                self.export_har_file(choice, items, self.base_url())

        sockets = sum(isinstance(i, WsExport) for i in items)
        # The proposed file name is stamped with the screen's clock (pinned in snapshot tests).
        stamp = datetime.datetime.fromtimestamp(self.clock())
        dialog = ExportDialog(
            len(items) - sockets,
            not self.filter.is_empty,
            connections=sockets,
            default_path=default_filename(stamp),
        )
        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, name="export_har", group="export", exit_on_error=False)
    def export_har_file(self, choice: ExportChoice, items: list[Exportable], base_url: str) -> None:
        # File I/O off the event loop; failures surface through the app's worker handler.
        path, count = write_har(choice.path, items, base_url, redact=choice.redact)
        note = "sensitive headers redacted" if choice.redact else "sensitive headers KEPT"
        self.app.call_from_thread(
            self.notify, f"Exported {count} entries to {path} ({note})", title="HAR export"
        )

    def action_copy_url(self) -> None:
        self.app.copy_to_clipboard(self.base_url())
        self.notify(f"Copied {self.base_url()}", timeout=2)

    def action_dismiss_error(self) -> None:
        self.error_panel.hide()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dismiss_error":
            # Only offered (and shown in the footer) while the panel is visible.
            return self.is_mounted and self.error_panel.display
        if action == "leave_filter":
            # Escape means something only in the filter or with a panel maximized.
            return self.maximized is not None or isinstance(self.focused, Input)
        return True
