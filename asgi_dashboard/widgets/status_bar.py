"""The status bar: server state, URL, mode, pid, uptime, restarts, totals, versions.

Everything shown comes from :class:`~asgi_dashboard.history.ServerStatus`, which is derived from
lifecycle events (not from polling the runtime). Uptime is computed with the app's injectable
``clock`` so snapshots are deterministic.

Notices (``ServerStatus.notices``) stay for as long as they hold: a server listening beyond
loopback, or a default port that was busy so another one was taken. Printed on stderr before the
TUI starts they would be wiped by it at once.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from ..formatting import crash_next_step, uptime
from ..model import ServerStatus
from .palette import Palette

STATE_LABELS = {
    "waiting": "waiting",
    "starting": "starting",
    "running": "running",
    "restarting": "restarting",
    "stopped": "stopped",
    "crashed": "crashed",
    "failed": "failed to start",
}


class StatusBar(Static):
    """One (or two, when narrow) lines of server facts."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.status = ServerStatus()
        self.palette = Palette()
        self.paused = False
        self._lines = 0

    def on_mount(self) -> None:
        # Uptime ticks; everything else changes only when an event arrives.
        self.set_interval(1.0, self.refresh_status, name="tick_uptime")

    def show(self, status: ServerStatus, palette: Palette, *, paused: bool = False) -> None:
        self.status, self.palette, self.paused = status, palette, paused
        self.set_class(status.state in ("crashed", "failed"), "-bad")
        self.set_class(status.state in ("starting", "restarting"), "-busy")
        self.set_class(bool(status.notices), "-notice")
        self.refresh_status()

    def refresh_status(self) -> None:
        text = self.render_status()
        # The bar is one line, or two when the text does not fit: lay the screen out again
        # only when that changes (a layout pass per update cost ~45 ms under load, bench fig. 3).
        lines = 1 if text.cell_len <= max(1, self.content_size.width) else 2
        self.update(text, layout=lines != self._lines)
        self._lines = lines

    def render_status(self) -> Text:
        s, p = self.status, self.palette
        state_style = {
            "running": f"bold {p.success}",
            "starting": f"bold {p.warning}",
            "restarting": f"bold {p.warning}",
            "crashed": f"bold {p.error}",
            "failed": f"bold {p.error}",
        }.get(s.state, "bold")
        text = Text(no_wrap=False, overflow="ellipsis")
        text.append(f" ● {STATE_LABELS.get(s.state, s.state)} ", style=state_style)
        if s.crash is not None and s.state == "crashed":
            # What happens next: a restart on its own, or nothing until a save or `r`.
            text.append(f"({crash_next_step(s.crash)}) ", style=state_style)
        sep = ("  │ ", p.muted)
        if s.url:
            text.append("  ")
            text.append(s.url, style=f"underline {p.primary} link {s.url}")
        for notice in s.notices:
            text.append(*sep)
            text.append(f"⚠ {notice}", style=f"bold {p.warning}")
        if s.mode:
            text.append(*sep)
            text.append(s.mode)
        if s.pid:
            text.append(*sep)
            text.append(f"pid {s.pid}")
        if s.started_ts is not None:
            text.append(*sep)
            text.append(f"up {uptime(self.clock() - s.started_ts)}")
        text.append(*sep)
        text.append(f"restarts {s.restarts}")
        text.append(*sep)
        text.append(f"requests {s.requests}")
        text.append(*sep)
        text.append(f"errors {s.errors}", style=f"bold {p.error}" if s.errors else "")
        if s.loop_lag_ns is not None and s.loop_lag_max_ns is not None:
            # The blocked-loop figure: a max near the report threshold means something blocks.
            text.append(*sep)
            worst = s.loop_lag_max_ns
            style = p.error if worst >= 100_000_000 else p.warning if worst >= 20_000_000 else ""
            text.append(f"loop lag {s.loop_lag_ns / 1e6:.0f}/{worst / 1e6:.0f}ms", style=style)
        if self.paused:
            text.append(*sep)
            text.append("PAUSED", style=f"bold reverse {p.warning}")
        if s.django or s.uvicorn:
            text.append(*sep)
            text.append(f"Django {s.django} · Uvicorn {s.uvicorn}", style=p.muted)
        return text
