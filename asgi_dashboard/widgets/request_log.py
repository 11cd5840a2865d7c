"""The live request log: a Line API widget that follows the newest row until the user looks away.

Following: while following, every append moves the cursor to the newest row. Moving the cursor
up, clicking a row that is not the newest, or scrolling up stops following (and the widget says
so with :class:`RequestLog.FollowChanged`); moving back to the last row, scrolling to the bottom,
or :meth:`follow` starts it again.

Why not a ``DataTable``: under a few hundred requests per second it spent ~60 ms per frame
re-rendering every visible cell (each added row invalidates its whole render cache) and
measuring every new cell for auto-width columns, so a key press waited behind it (bench figure
3: key press -> frame p95 119-183 ms). Here a row is rendered once into a :class:`Strip`
(fixed-width columns, one segment per cell) and cached by row and state; an append costs a list
append, and a frame renders only the rows on screen, most of them from the cache.

The widget holds at most ``max_rows`` rows (history lives in the model's ring buffer); older
rows fall off the top.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model import LogItem
from ..model.rows import LogOrder, in_order, start_key
from .log_cells import PAD, Layout, fit, log_cells
from .palette import Palette

#: Rows kept in the log when no limit is given (the main screen passes the history size).
MAX_ROWS = 5000
#: Rendered rows kept (about 3 screens of rows in their states); cleared when full, and when
#: the width, theme or focus changes. Bounded small: rows that scrolled away are not drawn again.
CACHE_LIMIT = 400


class RequestLog(ScrollView, can_focus=True):
    """Rows of requests and WebSocket connections, newest at the bottom, under a header line."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_top", "Oldest", show=False),
        Binding("end", "scroll_bottom", "Newest", show=False),
    ]

    COMPONENT_CLASSES = {
        "request-log--header",
        "request-log--cursor",
        "request-log--even-row",
    }

    # Intrinsic layout only; colours of the header, stripes and cursor are in app.tcss.
    DEFAULT_CSS = """
    RequestLog { overflow-x: hidden; }
    """

    #: Index of the selected row (the cursor), 0 = oldest row shown.
    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

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
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.max_rows = max_rows
        #: Finish order (rows append) or start order (late finishers insert above).
        self.order: LogOrder = "finish"
        self.palette = Palette()
        self.following = True
        #: Columns for the screen width; a worker column (--workers N) after show_workers(True).
        self.layout_spec, self._layout_width, self.worker_column = Layout.for_width(160), 160, False
        #: The rows shown, oldest first.
        self._items: list[LogItem] = []
        #: The rows shown, in order: row key -> item.
        self.shown: dict[str, LogItem] = {}
        self._cache: dict[tuple[str, str, int], Strip] = {}
        self._base_style: Style | None = None
        self._styles: dict[str, Style] = {}
        self._end_pending = False
        #: The row the user clicked last (a click on it again opens it).
        self._clicked_key: str | None = None

    # -- rendering ------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._items)

    def get_row_at(self, index: int) -> list[Text | str]:
        """The cells of the row at ``index`` (as shown, before cutting to the column width)."""
        return self.cells(self._items[index])

    def _style(self, spec: str) -> Style:
        style = self._styles.get(spec)
        if style is None:
            style = self._styles[spec] = Style.parse(spec) if spec else Style()
        return style

    def _base(self) -> Style:
        # DOMNode.rich_style walks the ancestors' styles: once per repaint, not once per line.
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def _row_strip(self, item: LogItem, state: str, width: int) -> Strip:
        base = self._base()
        if state == "cursor":
            row_style = base + self.get_component_rich_style("request-log--cursor")
        elif state == "even":
            row_style = base + self.get_component_rich_style("request-log--even-row")
        else:
            row_style = base
        pad = Segment(" " * PAD, row_style)
        segments = []
        for cell, (_, col_width, right) in zip(
            self.cells(item), self.layout_spec.columns(), strict=True
        ):
            text = cell.plain if isinstance(cell, Text) else cell
            style = self._style(str(cell.style)) if isinstance(cell, Text) else Style()
            if state == "cursor":
                # The cursor's colours win, as in a DataTable; the cell keeps bold and the like.
                style = row_style + Style(bold=style.bold) if style.bold else row_style
            else:
                style = row_style + style
            right = right or (isinstance(cell, Text) and cell.justify == "right")
            segments += [pad, Segment(fit(text, col_width, right), style), pad]
        return Strip(segments).extend_cell_length(width, row_style).crop(0, width)

    def _header_strip(self, width: int) -> Strip:
        style = self._base() + self.get_component_rich_style("request-log--header")
        pad = Segment(" " * PAD, style)
        segments = []
        for title, col_width, right in self.layout_spec.columns():
            segments += [pad, Segment(fit(title, col_width, right), style), pad]
        return Strip(segments).extend_cell_length(width, style).crop(0, width)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        make: Callable[[], Strip]
        if y == 0:
            key = ("header", "", width)
            make = lambda: self._header_strip(width)  # noqa: E731
        else:
            index = int(self.scroll_offset.y) + y - 1
            if not 0 <= index < len(self._items):
                return Strip.blank(width, self._base())
            item = self._items[index]
            # Zebra stripes follow the row's sequence number: they stay put as rows fall off.
            parity = "even" if item.seq % 2 == 0 else "odd"
            state = "cursor" if index == self.cursor_row else parity
            key = (item.key, state, width)
            make = lambda: self._row_strip(item, state, width)  # noqa: E731
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            strip = self._cache[key] = make()
        return strip

    def _invalidate(self) -> None:
        """Forget rendered rows (width, theme, palette or focus changed) and repaint."""
        self._cache.clear()
        self._styles.clear()
        self._base_style = None
        self.refresh()

    def on_focus(self) -> None:
        self._invalidate()

    def on_blur(self) -> None:
        self._invalidate()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._invalidate()

    def cells(self, item: LogItem) -> list[Text | str]:
        return log_cells(item, self.layout_spec, self.palette)

    # -- content ----------------------------------------------------------------------------------

    def reset(self, items: Iterable[LogItem]) -> None:
        """Show exactly these items (the newest ``max_rows`` of them)."""
        keep = in_order(list(items)[-self.max_rows :], self.order)
        cursor_key = self._cursor_key()
        self._items = keep
        self.shown = {item.key: item for item in keep}
        self._cache.clear()
        self._resized()
        if self.following or cursor_key not in self.shown:
            self._go_newest()
        else:
            self.move_cursor(row=list(self.shown).index(cursor_key))
        self.refresh()

    def append(self, items: list[LogItem]) -> None:
        if not items:
            return
        if self.order == "start":
            cursor_key = self._cursor_key()
            for item in items:
                # Mostly near the end: requests finish soon after they start.
                bisect.insort(self._items, item, key=start_key)
            self.shown = {item.key: item for item in self._items}
            if cursor_key is not None and not self.following:
                self.cursor_row = list(self.shown).index(cursor_key)
        else:
            self._items.extend(items)
            for item in items:
                self.shown[item.key] = item
        extra = len(self._items) - self.max_rows
        if extra > 0:
            for item in self._items[:extra]:
                del self.shown[item.key]
            del self._items[:extra]
            if not self.following:
                # Keep the selected row selected, and the rows on screen where they were.
                self.cursor_row = max(0, self.cursor_row - extra)
                self.scroll_to(y=max(0, self.scroll_y - extra), animate=False, immediate=True)
        self._resized()
        if self.following:
            self._go_newest()
        self.refresh()

    def update_items(self, items: Iterable[LogItem]) -> None:
        """Refresh rows whose entry changed (WebSocket accepted/closed)."""
        changed = False
        for item in items:
            if item.key in self.shown:
                for key in [k for k in self._cache if k[0] == item.key]:
                    del self._cache[key]
                changed = True
        if changed:
            self.refresh()

    def show_workers(self, shown: bool) -> None:
        """Show (or not) the column saying which worker served each row."""
        if shown != self.worker_column:
            self.worker_column = shown
            self.relayout(self._layout_width)

    def relayout(self, width: int) -> None:
        self._layout_width = width
        spec = Layout.for_width(width, workers=self.worker_column)
        if spec == self.layout_spec:
            return
        self.layout_spec = spec
        self._invalidate()

    def _resized(self) -> None:
        # Columns are cut to fit: nothing ever scrolls sideways.
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._items) + 1)

    def _cursor_key(self) -> str | None:
        if not self._items or not 0 <= self.cursor_row < len(self._items):
            return None
        return self._items[self.cursor_row].key

    def item_at_cursor(self) -> LogItem | None:
        key = self._cursor_key()
        return self.shown.get(key) if key else None

    # -- cursor ---------------------------------------------------------------------------------

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Select the row at ``row`` (clamped) and scroll it into view."""
        old = self.cursor_row
        self.cursor_row = max(0, min(row, len(self._items) - 1))
        visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)
        if old != self.cursor_row:
            self.refresh()

    def watch_cursor_row(self) -> None:
        self.refresh()

    # -- following ------------------------------------------------------------------------------

    def _go_newest(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            if not self._end_pending:
                # Before the first layout (or a resize) the height is not known yet, and the
                # scroll above was clamped: scroll again once the screen has been laid out.
                self._end_pending = True
                self.call_after_refresh(self._stick_to_end)

    def _stick_to_end(self) -> None:
        self._end_pending = False
        if self.following and self.row_count:
            self.move_cursor(row=self.row_count - 1)
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._resized()
        if self.following:
            self._go_newest()

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

    def _user_move(self, row: int) -> None:
        if self._items:
            self.move_cursor(row=row)
            self._after_user_move("row selected")

    def action_cursor_up(self) -> None:
        self._user_move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._user_move(self.cursor_row + 1)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_page_up(self) -> None:
        self._user_move(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self._user_move(self.cursor_row + self._page())

    def action_scroll_top(self) -> None:
        self._user_move(0)

    def action_scroll_bottom(self) -> None:
        self._user_move(len(self._items) - 1)

    def action_open(self) -> None:
        item = self.item_at_cursor()
        if item is not None:
            self.post_message(self.Opened(item))

    def on_click(self, event: events.Click) -> None:
        """A click selects its row; a second click on the same row opens it."""
        if event.y < 1:  # the header
            return
        index = int(self.scroll_y) + event.y - 1
        if not 0 <= index < len(self._items):
            return
        key = self._items[index].key
        if index == self.cursor_row and key == self._clicked_key:
            self.action_open()
            return
        self._clicked_key = key
        self.move_cursor(row=index)
        self._after_user_move("row clicked")

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.max_scroll_y > 0 and self.scroll_y > 0:
            self._set_following(False, "scrolled up")

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.call_next(self._refollow_at_bottom)

    def _refollow_at_bottom(self) -> None:
        # Reaching the bottom by scrolling means "show me the newest again".
        if not self.following and self.scroll_y + 1 >= self.max_scroll_y:
            self.follow()
