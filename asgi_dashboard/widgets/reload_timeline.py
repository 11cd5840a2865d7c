"""The reload timeline: every reload with when, which files, how (fork, respawn, templates,
manual), how long until the new server answered, and the outcome.

Renders the model's :class:`~asgi_dashboard.model.ReloadHistory` rows (the newest
:data:`~asgi_dashboard.model.reloads.MAX_ROWS`) under a header saying what is watched, as the
runtime's watcher reported it (``ReloadWatching``, worded by the model).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ..model import ChangeSet, ReloadRow

HOW = {
    "fork": "fast (fork)",
    "spawn": "full respawn",
    "templates": "templates reset",
    "manual": "manual restart",
}


def _relative(path: str, root: str) -> str:
    with_sep = root.rstrip(os.sep) + os.sep
    return path[len(with_sep) :] if path.startswith(with_sep) else path


class ReloadTimeline(Vertical):
    """Header with what is watched, then one table row per reload (newest at the bottom)."""

    DEFAULT_CSS = """
    ReloadTimeline { height: 1fr; }
    ReloadTimeline > #reload-watch { height: auto; color: $text-muted; padding: 0 1; }
    ReloadTimeline > DataTable { height: 1fr; }
    """

    def __init__(
        self,
        *,
        project_dir: str = "",
        watch_text: str = "",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        #: File paths under it are shown relative to it.
        self.project_dir = project_dir
        self.watch_text = watch_text
        self._rows: list[ReloadRow] = []

    def compose(self) -> ComposeResult:
        # markup=False: globs such as *.py[cod] are not Rich markup tags.
        yield Static(self.watch_text, id="reload-watch", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="reload-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("time", "files", "action", "how", "took", "outcome", "detail")

    def show_changes(self, changes: ChangeSet, rows: Iterable[ReloadRow], watch_text: str) -> None:
        """A batch changed the reload rows or what is watched."""
        if changes.watching_changed:
            self.watch_text = watch_text
            self.query_one("#reload-watch", Static).update(watch_text)
        if changes.reloads_changed:
            self._render_rows(rows)

    def on_resize(self) -> None:
        # The detail column takes what the others leave, cut with an ellipsis.
        self._render_rows(self._rows)

    def _render_rows(self, rows: Iterable[ReloadRow]) -> None:
        table = self.query_one(DataTable)
        root = self.project_dir
        self._rows = list(rows)
        table.clear()
        cells: list[tuple[list[str], str, str]] = []
        for row in self._rows:
            files = [_relative(p, root) for p in row.files]
            shown = ", ".join(files[:3]) + (f" +{len(files) - 3}" if len(files) > 3 else "")
            took = "" if row.duration_ns is None else f"{row.duration_ns / 1e6:.0f} ms"
            when = datetime.datetime.fromtimestamp(row.ts).strftime("%H:%M:%S")
            fixed = [when, shown, row.action, HOW.get(row.how, row.how), took, row.outcome or "…"]
            cells.append((fixed, row.outcome, row.detail))
        headers = ("time", "files", "action", "how", "took", "outcome")
        used = sum(max([len(h), *(len(c[0][i]) for c in cells)]) + 2 for i, h in enumerate(headers))
        room = max(12, self.size.width - used - 4)  # detail's padding and the scrollbar
        for fixed, outcome, detail in cells:
            style = {"ok": "green", "failed": "bold red", "loop": "yellow"}.get(outcome, "")
            cut = detail if len(detail) <= room else detail[: room - 1] + "…"
            table.add_row(*fixed[:5], Text(fixed[5], style=style), cut)
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
