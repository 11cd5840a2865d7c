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
from ..model.status import fit_status
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


SEPARATOR = " │ "


#: The in-memory channel layer warning where the bar is too narrow for it and the URL.
SHORT_LAYER_WARNING = "⚠ in-memory layer"


class StatusBar(Static):
    """One line of server facts; the least useful are dropped when narrow (STATUS_DROP_ORDER)."""

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

    def on_mount(self) -> None:
        # Uptime ticks; everything else changes only when an event arrives.
        self.set_interval(1.0, self.refresh_status, name="tick_uptime")

    def on_resize(self) -> None:
        # Which fields fit depends on the width.
        self.refresh_status()

    def show(self, status: ServerStatus, palette: Palette, *, paused: bool = False) -> None:
        self.status, self.palette, self.paused = status, palette, paused
        self.set_class(status.state in ("crashed", "failed"), "-bad")
        self.set_class(status.state in ("starting", "restarting"), "-busy")
        self.set_class(bool(status.notices), "-notice")
        self.refresh_status()

    def refresh_status(self) -> None:
        # Always one line (app.tcss height 1): fields are dropped to fit, never wrapped, so no
        # layout pass is needed for a new text (a layout pass cost ~45 ms under load, fig. 3).
        self.update(self.render_status(max(1, self.content_size.width)), layout=False)

    def render_status(self, width: int | None = None) -> Text:
        """The bar's text; with ``width``, least useful fields dropped to fit (model.status)."""
        fields = self.status_fields()
        keys = [key for key, _ in fields]
        if width is not None:
            keys = fit_status([(k, t.cell_len) for k, t in fields], width, len(SEPARATOR))
            if "layer_warning" in keys and "url" not in keys and self.status.url:
                # The URL matters more than the warning's wording (said in full in the console).
                fields = [
                    (k, Text(SHORT_LAYER_WARNING, style=t.style) if k == "layer_warning" else t)
                    for k, t in fields
                ]
                keys = fit_status([(k, t.cell_len) for k, t in fields], width, len(SEPARATOR))
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, part in fields:
            if key not in keys:
                continue
            if len(text):
                text.append(SEPARATOR, style=self.palette.muted)
            text.append_text(part)
        return text

    def status_fields(self) -> list[tuple[str, Text]]:
        """Every field the status has, keyed by the names in STATUS_DROP_ORDER."""
        s, p = self.status, self.palette
        state_style = {
            "running": f"bold {p.success}",
            "starting": f"bold {p.warning}",
            "restarting": f"bold {p.warning}",
            "crashed": f"bold {p.error}",
            "failed": f"bold {p.error}",
        }.get(s.state, "bold")
        state = Text(f"● {STATE_LABELS.get(s.state, s.state)}", style=state_style)
        if s.crash is not None and s.state == "crashed":
            # What happens next: a restart on its own, or nothing until a save or `r`.
            state.append(f" ({crash_next_step(s.crash)})")
        fields: list[tuple[str, Text]] = [("state", state)]
        if self.paused:
            fields.append(("paused", Text("PAUSED", style=f"bold reverse {p.warning}")))
        if s.url:
            fields.append(("url", Text(s.url, style=f"underline {p.primary} link {s.url}")))
        fields += [
            (f"notice{i}", Text(f"⚠ {n}", style=f"bold {p.warning}"))
            for i, n in enumerate(s.notices)
        ]
        if s.layer_warning:
            fields.append(
                ("layer_warning", Text(f"⚠ {s.layer_warning}", style=f"bold {p.warning}"))
            )
        if s.mode:
            fields.append(("mode", Text(s.mode)))
        if len(s.workers) > 1:
            pids = ", ".join(str(s.workers[i]) for i in sorted(s.workers))
            fields.append(("workers", Text(f"{len(s.workers)} workers (pids {pids})")))
        elif s.pid:
            fields.append(("pid", Text(f"pid {s.pid}")))
        if s.started_ts is not None:
            fields.append(("uptime", Text(f"up {uptime(self.clock() - s.started_ts)}")))
        if s.mode == "collect":  # no server of ours to restart: the processes reporting to us
            fields.append(("attached", Text(f"attached {len(s.attached)}")))
        else:
            fields.append(("restarts", Text(f"restarts {s.restarts}")))
        fields.append(("requests", Text(f"requests {s.requests}")))
        errors_style = f"bold {p.error}" if s.errors else ""
        fields.append(("errors", Text(f"errors {s.errors}", style=errors_style)))
        if s.loop_lag_ns is not None and s.loop_lag_max_ns is not None:
            # The blocked-loop figure: a max near the report threshold means something blocks.
            worst = s.loop_lag_max_ns
            style = p.error if worst >= 100_000_000 else p.warning if worst >= 20_000_000 else ""
            lag = f"loop lag {s.loop_lag_ns / 1e6:.0f}/{worst / 1e6:.0f}ms"
            fields.append(("loop_lag", Text(lag, style=style)))
        if s.django or s.uvicorn:
            versions = f"Django {s.django} · Uvicorn {s.uvicorn}"
            fields.append(("versions", Text(versions, style=p.muted)))
        return fields
