"""The live request log: a DataTable that follows the newest row until the user looks away.

Following: while following, every append moves the cursor to the newest row. Moving the cursor
up, clicking a row that is not the newest, or scrolling up stops following (and the widget says
so with :class:`RequestLog.FollowChanged`); moving back to the last row, scrolling to the bottom,
or :meth:`follow` starts it again.

The table holds at most ``max_rows`` rows (history lives in the model's ring buffer); when it
grows to twice that it is rebuilt from its newest rows, which is cheaper than DataTable's
O(n) ``remove_row`` per evicted row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from ..events import RequestFinished
from ..formatting import clock, ms, short_view
from ..history import LogItem, WsConnection
from .palette import Palette

#: Rows kept in the table by default (the history buffer is bigger).
MAX_ROWS = 500


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths for the current terminal width."""

    time_fmt: str  # "long" HH:MM:SS.mmm or "short" HH:MM:SS
    path: int
    view: int

    @classmethod
    def for_width(cls, width: int) -> Layout:
        long_time = width >= 130
        # Fixed columns: time, method 6, status 3, kind 6, total 8, view ms 8, sql 4, plus the
        # DataTable's one-cell padding either side of each of the 9 columns and a scrollbar.
        fixed = (12 if long_time else 8) + 6 + 3 + 6 + 8 + 8 + 4 + 18 + 2
        free = max(30, width - fixed)
        path = max(16, free * 55 // 100)
        return cls("long" if long_time else "short", path, max(14, free - path))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class RequestLog(DataTable[Text | str]):
    """Rows of requests and WebSocket connections, newest at the bottom."""

    # Home/End move between the oldest and newest rows (DataTable's default scrolls sideways).
    BINDINGS = [
        Binding("end", "scroll_bottom", "Newest", show=False),
        Binding("home", "scroll_top", "Oldest", show=False),
    ]

    class FollowChanged(Message):
        """Following the newest row started or stopped."""

        def __init__(self, following: bool, reason: str) -> None:
            super().__init__()
            self.following = following
            self.reason = reason

    class Opened(Message):
        """The user chose a row (enter or click on the selected row)."""

        def __init__(self, item: LogItem) -> None:
            super().__init__()
            self.item = item

    def __init__(self, *, max_rows: int = MAX_ROWS, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.max_rows = max_rows
        self.palette = Palette()
        self.following = True
        self.layout_spec = Layout.for_width(160)
        #: The rows shown, in order: row key -> item.
        self.shown: dict[str, LogItem] = {}

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        spec = self.layout_spec
        self.add_column("time", key="time", width=12 if spec.time_fmt == "long" else 8)
        self.add_column("method", key="method", width=6)
        self.add_column("path", key="path", width=spec.path)
        self.add_column("st", key="status", width=3)
        self.add_column("view", key="view", width=spec.view)
        self.add_column("kind", key="kind", width=6)
        self.add_column(Text("total ms", justify="right"), key="total", width=8)
        self.add_column(Text("view ms", justify="right"), key="view_ms", width=8)
        self.add_column(Text("sql", justify="right"), key="sql", width=4)

    # -- rendering ------------------------------------------------------------------------------

    def cells(self, item: LogItem) -> list[Text | str]:
        p, spec, e = self.palette, self.layout_spec, item.entry
        when = clock(e.ts) if spec.time_fmt == "long" else clock(e.ts)[:8]
        target = e.path + (f"?{e.query}" if e.query else "")
        status = item.status
        if isinstance(e, WsConnection):
            view = e.consumer or ("handshake…" if e.accepted is None else "(no consumer)")
            view_style = "" if e.consumer else p.muted
            view_ms = Text("open" if not e.closed else "", style=p.accent, justify="right")
            total = Text(ms(e.duration_ns, digits=0) if e.closed else "…", justify="right")
        else:
            assert isinstance(e, RequestFinished)
            if e.view:
                view, view_style = e.view, ""
            elif e.static:
                view, view_style = "static file", p.muted
            else:
                view, view_style = "(no view)", p.muted
            view_ms = Text(ms(e.view_ns), justify="right")
            total = Text(ms(e.total_ns), justify="right")
        badge = item.badge
        return [
            Text(when, style=p.muted),
            Text(item.method, style="bold" if item.method not in ("GET", "HEAD") else ""),
            Text(_cut(target, spec.path), style=f"bold {p.error}" if item.is_error else ""),
            Text(str(status) if status else "…", style=p.status(status)),
            Text(short_view(view, spec.view), style=view_style),
            Text(badge if badge != "-" else "", style=p.kind(badge)),
            total,
            view_ms,
            Text(str(item.sql_count) if not item.is_ws else "", justify="right"),
        ]

    # -- content ----------------------------------------------------------------------------------

    def reset(self, items: Iterable[LogItem]) -> None:
        """Show exactly these items (the newest ``max_rows`` of them)."""
        keep = list(items)[-self.max_rows :]
        cursor_key = self._cursor_key()
        self.clear()
        self.shown = {}
        self._append_rows(keep)
        if self.following or cursor_key not in self.shown:
            self._go_newest()
        else:
            self.move_cursor(row=self.get_row_index(cursor_key), animate=False)

    def append(self, items: list[LogItem]) -> None:
        if not items:
            return
        # Rebuild only when the table has doubled: each appended row then costs at most one
        # rebuilt row (a 25% margin rebuilt 500 rows every 125 requests under load; see bench).
        if len(self.shown) + len(items) > self.max_rows * 2:
            self.reset([*self.shown.values(), *items])
            return
        self._append_rows(items)
        if self.following:
            self._go_newest()

    def update_items(self, items: Iterable[LogItem]) -> None:
        """Refresh rows whose entry changed (WebSocket accepted/closed)."""
        for item in items:
            if item.key in self.shown:
                for column, value in zip(self.columns, self.cells(item), strict=True):
                    self.update_cell(item.key, column, value)

    def relayout(self, width: int) -> None:
        spec = Layout.for_width(width)
        if spec == self.layout_spec:
            return
        self.layout_spec = spec
        items = list(self.shown.values())
        self.clear(columns=True)
        self._add_columns()
        self.shown = {}
        self.reset(items)

    def _append_rows(self, items: list[LogItem]) -> None:
        for item in items:
            self.shown[item.key] = item
        self.add_rows_with_keys(items)

    def add_rows_with_keys(self, items: list[LogItem]) -> None:
        for item in items:
            self.add_row(*self.cells(item), key=item.key)

    def _cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor is outside the table while rows change
            return None
        return key

    def item_at_cursor(self) -> LogItem | None:
        key = self._cursor_key()
        return self.shown.get(key) if key else None

    # -- following ------------------------------------------------------------------------------

    def _go_newest(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
            self.scroll_end(animate=False, x_axis=False)

    def follow(self) -> None:
        """Jump to the newest row and follow new ones."""
        self._set_following(True, "follow")
        self._go_newest()

    def _set_following(self, following: bool, reason: str) -> None:
        if following != self.following:
            self.following = following
            self.post_message(self.FollowChanged(following, reason))

    def _after_user_move(self, reason: str) -> None:
        at_newest = self.cursor_row >= self.row_count - 1
        self._set_following(at_newest, "newest row" if at_newest else reason)

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._after_user_move("row selected")

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._after_user_move("row selected")

    def action_page_up(self) -> None:
        super().action_page_up()
        self._after_user_move("row selected")

    def action_page_down(self) -> None:
        super().action_page_down()
        self._after_user_move("row selected")

    def action_scroll_top(self) -> None:
        super().action_scroll_top()
        self._after_user_move("row selected")

    def action_scroll_bottom(self) -> None:
        super().action_scroll_bottom()
        self._after_user_move("row selected")

    # Handlers named on_* run *before* DataTable's own _on_* handlers (Textual dispatches to
    # every class in the MRO, subclass first), so look at the cursor once they are done.
    def on_click(self, event: events.Click) -> None:
        self.call_next(self._after_user_move, "row clicked")

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.max_scroll_y > 0 and self.scroll_y > 0:
            self._set_following(False, "scrolled up")

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.call_next(self._refollow_at_bottom)

    def _refollow_at_bottom(self) -> None:
        # Reaching the bottom by scrolling means "show me the newest again".
        if not self.following and self.scroll_y + 1 >= self.max_scroll_y:
            self.follow()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        item = self.shown.get(event.row_key.value or "")
        if item is not None:
            self.post_message(self.Opened(item))
