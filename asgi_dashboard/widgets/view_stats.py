"""Per-view statistics: one row per (route, view), sortable, with a sparkline of recent latency.

Reads a :class:`~asgi_dashboard.stats.ViewStats` (attribute down) and rebuilds its rows at most
twice a second, and only when the stats changed: the aggregates are updated incrementally by the
model as events arrive, the table is just a view of them.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from ..formatting import ms, short_view, sparkline
from ..stats import ViewAggregate, ViewStats
from .palette import Palette

#: (column key, label, right-aligned?) in display order; "route" is hidden when narrow.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("route", "route", False),
    ("view", "view", False),
    ("kind", "kind", False),
    ("count", "count", True),
    ("errors", "err", True),
    ("p50", "p50 ms", True),
    ("p95", "p95 ms", True),
    ("p99", "p99 ms", True),
    ("max", "max ms", True),
    ("view_mean", "view avg", True),
    ("sql_mean", "sql avg", True),
    ("n_plus_one", "N+1", True),
    ("hops", "hops", True),
    ("hop_wait_p95", "hop wait p95", True),
    ("spark", "recent", False),
)
#: At 100 columns: no route or p99 column, shorter labels and widths (the sort mark included).
#: (N+1 and the hop columns too: the view column would be below its minimum at 100; the sql
#: column warns of N+1 instead.)
NARROW_HIDDEN = frozenset({"route", "p99", "n_plus_one", "hops", "hop_wait_p95"})
#: Below MEDIUM_WIDTH (and not narrow, e.g. 160 or 220): every column, with the narrow labels and
#: MEDIUM_WIDTHS, so that all of them (the hop columns too) fit without scrolling.
MEDIUM_WIDTH = 240
MEDIUM_WIDTHS = {"route": 20, "view": 30, "spark": 8}
NARROW_LABELS = {"p50": "p50", "p95": "p95", "max": "max", "view_mean": "view", "sql_mean": "sql"}
NARROW_LABELS |= {"p99": "p99", "hop_wait_p95": "hop p95"}
NARROW_WIDTHS = {
    "view": 22,
    "kind": 6,
    "count": 6,
    "errors": 4,
    "p50": 7,
    "p95": 7,
    "max": 7,
    "view_mean": 7,
    "sql_mean": 5,
    "spark": 8,
}
SORTABLE = tuple(key for key, _, _ in COLUMNS)
#: Sorted A-Z first; every other column largest first.
NAME_COLUMNS = frozenset({"route", "view", "kind"})
WIDE_WIDTHS = {"route": 22, "view": 30, "spark": 12}
#: The view column never gets narrower than this; it takes the width nothing else uses.
MIN_VIEW_WIDTH = 22
REFRESH_INTERVAL = 0.5


class ViewStatsTable(DataTable[Text | str]):
    """The per-view aggregates; click a header (or press o / O) to sort."""

    BINDINGS = [
        ("o", "next_sort", "Sort by"),
        ("O", "reverse_sort", "Reverse"),
    ]

    def __init__(self, stats: ViewStats, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self.stats = stats
        self.palette = Palette()
        self.sort_key = "p95"
        self.sort_reverse = True
        self.narrow = False
        #: Between narrow and MEDIUM_WIDTH: short labels and widths (see MEDIUM_WIDTHS).
        self.medium = False
        #: The columns not shown at the current width (NARROW_HIDDEN when narrow).
        self.hidden: frozenset[str] = frozenset()
        #: Width of the view column: the free width of the table, at least MIN_VIEW_WIDTH.
        self.view_width = WIDE_WIDTHS["view"]
        self._width: int | None = None
        self._shown_version = -1

    def on_mount(self) -> None:
        self._add_columns()
        self.set_interval(REFRESH_INTERVAL, self.refresh_if_changed, name="refresh_view_stats")

    def _columns(self) -> list[tuple[str, str, bool, int]]:
        """(key, label, right-aligned, width) of the shown columns, the view at its minimum."""
        shown = []
        for key, label, right in COLUMNS:
            if key in self.hidden:
                continue
            if self.narrow or self.medium:
                label = NARROW_LABELS.get(key, label)
            if key == self.sort_key:
                label += " ▼" if self.sort_reverse else " ▲"
            if self.narrow:
                width = NARROW_WIDTHS[key]
            else:
                widths = MEDIUM_WIDTHS if self.medium else WIDE_WIDTHS
                width = widths.get(key) or max(len(label) + 2, 6)
            shown.append((key, label, right, width))
        return shown

    def _add_columns(self) -> None:
        for key, label, right, width in self._columns():
            header = Text(label, justify="right" if right else "left")
            self.add_column(header, key=key, width=self.view_width if key == "view" else width)

    def free_view_width(self, width: int) -> int:
        """The view column's width in a table ``width`` cells wide (cell padding, scrollbar)."""
        columns = self._columns()
        others = sum(w for key, _, _, w in columns if key != "view")
        padding = 2 * self.cell_padding * len(columns)
        return max(MIN_VIEW_WIDTH, width - others - padding - 2)

    def on_show(self) -> None:
        self.refresh_stats()

    def refresh_if_changed(self) -> None:
        # Widget.is_on_screen: displayed in the last update (not on a hidden tab).
        if self.stats.version != self._shown_version and self.is_on_screen:
            self.refresh_stats()

    def refresh_stats(self, *, force_columns: bool = False) -> None:
        """Rebuild rows from the aggregates, keeping the cursor on the same view."""
        self._shown_version = self.stats.version
        cursor_key = None
        if self.row_count and self.cursor_row < self.row_count:
            cursor_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self.clear(columns=force_columns)
        if force_columns:
            self._add_columns()
        for agg in self.stats.rows(self.sort_key, self.sort_reverse):
            key = f"{agg.route}\x00{agg.view}\x00{agg.answered_by or ''}"
            self.add_row(*self.cells(agg), key=key)
        if cursor_key is not None and cursor_key in self.rows:
            self.move_cursor(row=self.get_row_index(cursor_key), animate=False)

    def cells(self, agg: ViewAggregate) -> list[Text | str]:
        p = self.palette
        p95_style = ""
        if agg.p(95) >= 500_000_000:
            p95_style = f"bold {p.error}"
        elif agg.p(95) >= 200_000_000:
            p95_style = p.warning
        view_style = p.muted if agg.view.startswith("(") else ""
        view = short_view(agg.view, self.view_width)
        spark_width = 8 if self.narrow or self.medium else 12
        if agg.answered_by:  # a row of requests a middleware answered before the view ran
            view += " ← " + agg.answered_by.rsplit(".", 1)[-1]
        cells: dict[str, Text] = {
            "route": Text(route_text(agg), style=p.muted, overflow="ellipsis", no_wrap=True),
            "view": Text(view, style=view_style, overflow="ellipsis", no_wrap=True),
            "kind": Text(agg.kind, style=p.kind(agg.kind)),
            "count": Text(str(agg.count), justify="right"),
            "errors": Text(
                str(agg.errors), justify="right", style=f"bold {p.error}" if agg.errors else ""
            ),
            "p50": Text(ms(round(agg.p(50))), justify="right"),
            "p95": Text(ms(round(agg.p(95))), justify="right", style=p95_style),
            "p99": Text(ms(round(agg.p(99))), justify="right"),
            "max": Text(ms(agg.max_ns), justify="right"),
            "view_mean": Text(
                ms(round(agg.mean_view_ns)) if agg.mean_view_ns is not None else "-",
                justify="right",
            ),
            "sql_mean": Text(
                f"{agg.mean_sql:.1f}", justify="right", style=p.warning if agg.n_plus_one else ""
            ),
            "n_plus_one": n_plus_one_cell(agg, p),
            "hops": Text(f"{agg.mean_hops:.1f}", justify="right"),
            "hop_wait_p95": hop_wait_cell(agg, p),
            "spark": Text(sparkline(list(agg.recent), spark_width), style=p.primary),
        }
        return [cells[key] for key, _, _ in COLUMNS if key not in self.hidden]

    def relayout(self, width: int) -> None:
        narrow = width < 130
        self._width = width
        old = (self.narrow, self.medium, self.view_width)
        self.narrow = narrow
        self.medium = not narrow and width < MEDIUM_WIDTH
        self.hidden = NARROW_HIDDEN if narrow else frozenset()
        self.view_width = self.free_view_width(width)
        if (self.narrow, self.medium, self.view_width) != old:
            self.refresh_stats(force_columns=True)

    def _resort(self) -> None:
        if self._width is not None:  # the sort mark changes a header's width
            self.view_width = self.free_view_width(self._width)
        self.refresh_stats(force_columns=True)

    def sort_by(self, key: str) -> None:
        """Sort by column ``key``; the current sort column again reverses the order."""
        if key not in SORTABLE:
            return
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            # Names read best A-Z; numbers are interesting largest first.
            self.sort_key, self.sort_reverse = key, key not in NAME_COLUMNS
        self._resort()

    def view_at_cursor(self) -> str | None:
        """The dotted path of the view on the selected row (None for "(no view)" rows)."""
        if not self.row_count or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value or ""
        view = key.split("\x00")[1] if key.count("\x00") == 2 else ""
        return view if view and not view.startswith("(") else None

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def action_next_sort(self) -> None:
        keys = [k for k in SORTABLE if k not in self.hidden]
        index = keys.index(self.sort_key) if self.sort_key in keys else -1
        nxt = keys[(index + 1) % len(keys)]
        self.sort_key, self.sort_reverse = nxt, nxt not in NAME_COLUMNS
        self._resort()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()


def n_plus_one_cell(agg: ViewAggregate, p: Palette) -> Text:
    """How many of the view's requests were flagged N+1 ("-": none)."""
    if not agg.n_plus_one:
        return Text("-", style=p.muted, justify="right")
    return Text(str(agg.n_plus_one), style=f"bold {p.warning}", justify="right")


def hop_wait_cell(agg: ViewAggregate, p: Palette) -> Text:
    """p95 of the view's hops' waits for their thread, in ms ("-": no hop seen)."""
    wait = agg.hop_wait_p(95)
    if wait is None:
        return Text("-", style=p.muted, justify="right")
    style = p.warning if wait >= 5_000_000 else ""  # 5 ms queued behind other sync work
    return Text(ms(round(wait), digits=2), justify="right", style=style)


def route_text(agg: ViewAggregate) -> str:
    """The route as written in the URLconf; the home route ('') reads "/", no route "-"."""
    if agg.route:
        return agg.route
    return "-" if agg.view.startswith("(") else "/"
