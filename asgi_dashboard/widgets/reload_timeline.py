"""The reload timeline: every reload with when, which files, how (fork, respawn, templates,
manual), how long until the new server answered, and the outcome.

Fed the same events as the console (FilesChanged, ReloadFinished, ReloadLoopDetected,
ServerFailed). :class:`ReloadHistory` pairs them into rows and knows nothing of Textual, so it is
tested on its own; :class:`ReloadTimeline` shows the newest :data:`MAX_ROWS` rows under a header
with the watched folders and the effective filters (from the config, exactly what the runtime's
watcher uses).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ..config import DashboardConfig
from ..events import Event
from ..model import ReloadHistory
from ..runtime.reloader import IGNORED_DIRS, ReloadFilter, watch_roots

HOW = {
    "fork": "fast (fork)",
    "spawn": "full respawn",
    "templates": "templates reset",
    "manual": "manual restart",
}


def describe_watch(config: DashboardConfig) -> str:
    """The watched folders and effective filters, as the runtime's watcher applies them."""
    if not config.reload:
        return "Reloading is off (--no-reload): press r to restart by hand."
    flt = ReloadFilter(config.reload_includes, config.reload_excludes)
    roots = ", ".join(str(r) for r in watch_roots(config))
    return (
        f"Watching {roots}\n"
        f"include: {' '.join(flt.includes)} + every file in a template folder\n"
        f"exclude: {' '.join(flt.excludes)}; folders {' '.join(IGNORED_DIRS)}"
    )


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

    def __init__(self, config: DashboardConfig | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.config = config
        self.history = ReloadHistory()

    def compose(self) -> ComposeResult:
        # markup=False: globs such as *.py[cod] are not Rich markup tags.
        watch = describe_watch(self.config) if self.config else ""
        yield Static(watch, id="reload-watch", markup=False)
        yield DataTable(cursor_type="row", zebra_stripes=True, id="reload-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("time", "files", "action", "how", "took", "outcome", "detail")

    def add_events(self, events: Iterable[Event]) -> None:
        if self.history.add(events):
            self._render_rows()

    def _render_rows(self) -> None:
        table = self.query_one(DataTable)
        root = str(self.config.project_dir) if self.config else ""
        table.clear()
        for row in self.history.rows:
            files = [_relative(p, root) for p in row.files]
            shown = ", ".join(files[:3]) + (f" +{len(files) - 3}" if len(files) > 3 else "")
            took = "" if row.duration_ns is None else f"{row.duration_ns / 1e6:.0f} ms"
            style = {"ok": "green", "failed": "bold red", "loop": "yellow"}.get(row.outcome, "")
            table.add_row(
                datetime.datetime.fromtimestamp(row.ts).strftime("%H:%M:%S"),
                shown,
                row.action,
                HOW.get(row.how, row.how),
                took,
                Text(row.outcome or "…", style=style),
                row.detail,
            )
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
