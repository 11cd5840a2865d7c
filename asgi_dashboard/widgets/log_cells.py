"""The request log's columns and cells: widths for a terminal width, and one row's Rich cells.

Split from :mod:`asgi_dashboard.widgets.request_log` (which draws and scrolls the rows); cells are
Rich Text styled with the widgets' palette.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text

from ..events import RequestFinished
from ..formatting import clock, ms, short_view
from ..model import LogItem, WsConnection
from .palette import Palette

#: Blank cells either side of each column (as DataTable's ``cell_padding``).
PAD = 1
#: After the view's name on a row the server flagged N+1 (``RequestFinished.n_plus_one``).
N_PLUS_ONE_MARK = " N+1"
#: The worker column's cells, padding included.
WORKER_CELLS = 2 + 2 * PAD


@dataclass(frozen=True, slots=True)
class Layout:
    """Column widths for the current terminal width."""

    time_fmt: str  # "long" HH:MM:SS.mmm or "short" HH:MM:SS
    path: int
    view: int
    #: Below 100 columns the "view ms" column is left out (total ms stays; the detail has the
    #: split) so path and view keep readable widths and nothing is cut at the right edge.
    view_ms: bool = True
    #: A "wk" column (the worker that served the row), shown once the log has seen more than
    #: one worker (``--workers N``): a single server process's log keeps its columns.
    workers: bool = False

    @classmethod
    def for_width(cls, width: int, *, workers: bool = False) -> Layout:
        if workers:
            # The worker column (2 cells and its padding) comes out of path and view.
            return replace(cls.for_width(width - WORKER_CELLS), workers=True)
        long_time = width >= 130
        view_ms = width >= 100
        # Fixed columns: time, method 6, status 3, kind 6, total 8, view ms 8, sql 4, plus the
        # one-cell padding either side of each column and a scrollbar.
        columns = 9 if view_ms else 8
        fixed = (12 if long_time else 8) + 6 + 3 + 6 + 8 + 4 + 2 * columns + 2
        fixed += 8 if view_ms else 0
        if view_ms:
            free = max(30, width - fixed)
            path = max(16, free * 55 // 100)
            return cls("long" if long_time else "short", path, max(14, free - path))
        free = max(22, width - fixed)
        path = max(12, free * 55 // 100)
        return cls("short", path, max(10, free - path), view_ms=False)

    def columns(self) -> list[tuple[str, int, bool]]:
        """(header, width, right-aligned) per column."""
        columns = [
            ("time", 12 if self.time_fmt == "long" else 8, False),
            *([("wk", WORKER_CELLS - 2 * PAD, True)] if self.workers else []),
            ("method", 6, False),
            ("path", self.path, False),
            ("st", 3, False),
            ("view", self.view, False),
            ("kind", 6, False),
            ("total ms", 8, True),
            ("view ms", 8, True),
            ("sql", 4, True),
        ]
        return columns if self.view_ms else [c for c in columns if c[0] != "view ms"]


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def fit(text: str, width: int, right: bool) -> str:
    text = cut(text, width)
    return text.rjust(width) if right else text.ljust(width)


def log_cells(item: LogItem, spec: Layout, p: Palette) -> list[Text | str]:
    """The cells of one log row, for the columns of ``spec``."""
    e = item.entry
    when = clock(e.ts) if spec.time_fmt == "long" else clock(e.ts)[:8]
    target = e.path + (f"?{e.query}" if e.query else "")
    status = item.status
    if isinstance(e, WsConnection):
        view = e.consumer or ("handshake…" if e.accepted is None else "(no consumer)")
        view_style = "" if e.consumer else p.muted
        # The connection's duration goes in "total ms"; while it is open that cell says so
        # (not "view ms", where it read as a figure of the sql column beside it).
        view_ms = Text("", justify="right")
        total = (
            Text(ms(e.duration_ns, digits=0), justify="right")
            if e.closed
            else Text("open", style=p.accent, justify="right")
        )
    else:
        assert isinstance(e, RequestFinished)
        if e.view:
            # A view a middleware answered for (e.g. a CSRF 403) never ran: muted.
            view, view_style = e.view, p.muted if e.answered_by else ""
        elif e.static:
            view, view_style = "static file", p.muted
        else:
            view, view_style = "(no view)", p.muted
        if e.cancelled:
            # Cut short by a reload's graceful timeout (the client got a 503): not an error.
            view_ms = Text(e.cancelled, style=p.warning, justify="right")
        elif e.answered_by:
            view_ms = Text("by mw", style=p.warning, justify="right")
        else:
            view_ms = Text(ms(e.view_ns), justify="right")
        total = Text(ms(e.total_ns), justify="right")
    badge = item.badge
    view_cell = Text(short_view(view, spec.view), style=view_style)
    if item.n_plus_one:  # the mark: the view's name shortened to make room for it
        view_cell = Text(short_view(view, spec.view - len(N_PLUS_ONE_MARK)), style=view_style)
        view_cell.append(N_PLUS_ONE_MARK, style=f"bold {p.warning}")
    worker = [Text(str(item.worker or ""), style=p.muted)] if spec.workers else []
    return [
        Text(when, style=p.muted),
        *worker,
        Text(item.method, style="bold" if item.method not in ("GET", "HEAD") else ""),
        Text(cut(target, spec.path), style=f"bold {p.error}" if item.is_error else ""),
        Text(str(status) if status else "…", style=p.status(status)),
        view_cell,
        Text(badge if badge != "-" else "", style=p.kind(badge)),
        total,
        *([view_ms] if spec.view_ms else []),
        Text(
            str(item.sql_count) if not item.is_ws else "",
            justify="right",
            style=f"bold {p.warning}" if item.n_plus_one else "",
        ),
    ]
