"""The server status the status bar shows, derived from lifecycle events (never polled)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED
from ..events import (
    Event,
    LoopLag,
    RequestFinished,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
)

ServerState = Literal[
    "waiting", "starting", "running", "restarting", "stopped", "crashed", "failed"
]


@dataclass(slots=True)
class ServerStatus:
    """Everything the status bar shows; :meth:`apply` returns True when something changed."""

    state: ServerState = "waiting"
    url: str | None = None
    mode: str = ""
    pid: int | None = None
    generation: int = 0
    #: Wall time the current server started accepting (for uptime); None when not running.
    started_ts: float | None = None
    starts: int = 0
    requests: int = 0
    errors: int = 0
    django: str = ""
    uvicorn: str = ""
    python: str = ""
    failure: ServerFailed | None = None
    #: The last crash of the current server and what follows it (restart scheduled or a crash
    #: loop); None once a server runs again.
    crash: ServerStopped | None = None
    #: Event-loop lag of the server process: the latest sample and the max over the last minute.
    loop_lag_ns: int | None = None
    loop_lag_max_ns: int | None = None
    #: Warnings for the whole run (a server listening beyond loopback, a busy default port
    #: so another was taken): printed before the TUI starts they would be wiped at once.
    notices: tuple[str, ...] = ()

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def exit_code(self, reload: bool) -> int:
        """The exit code headless mode would give for this status (see DashboardApp)."""
        if self.starts == 0 and self.failure is not None:
            return EXIT_BAD_INPUT if self.failure.phase == "bind" else EXIT_PROJECT_FAILED
        return 1 if self.state == "crashed" and not reload else 0

    def apply(self, event: Event) -> bool:
        match event:
            case RequestFinished():
                self.requests += 1
                self.errors += event.error is not None or (
                    event.status >= 500 and event.cancelled is None
                )
            case ServerStarting():
                self.state = "restarting" if self.starts or self.failure else "starting"
                self.mode = event.mode
                self.generation = event.generation
            case ServerStarted():
                self.state = "running"
                self.url, self.pid, self.mode = event.url, event.pid, event.mode
                self.generation = event.generation
                self.started_ts = event.ts
                self.starts += 1
                self.django, self.uvicorn, self.python = event.django, event.uvicorn, event.python
                self.failure = None
                self.crash = None
            case ServerFailed():
                self.state = "failed"
                self.failure = event
                self.started_ts = None
            case LoopLag():
                changed = (event.current_ns, event.max_ns) != (
                    self.loop_lag_ns,
                    self.loop_lag_max_ns,
                )
                self.loop_lag_ns, self.loop_lag_max_ns = event.current_ns, event.max_ns
                return changed
            case ServerStopped():
                # A stop that belongs to an older generation (the old server draining after a
                # restart) must not mark the new one as stopped.
                if event.generation and event.generation < self.generation:
                    return False
                if self.state != "failed":
                    self.state = {"crashed": "crashed", "failed": "failed"}.get(
                        event.reason, "stopped"
                    )  # type: ignore[assignment]
                self.crash = event if event.reason == "crashed" else None
                self.started_ts = None
            case _:
                return False
        return True


#: Status-bar fields from least to most useful: when the bar is narrower than its text, fields
#: are dropped in this order until it fits one line. Versions and pid are in the console and
#: the startup lines; the restart count is in the Reloads tab, uptime says when the server last
#: (re)started; the request and error counts are what a glance is for; state, notices and PAUSED
#: are never dropped.
STATUS_DROP_ORDER = (
    "versions",
    "pid",
    "mode",
    "restarts",
    "uptime",
    "loop_lag",
    "requests",
    "url",
    "errors",
)


def fit_status(fields: list[tuple[str, int]], width: int, separator: int) -> list[str]:
    """The keys of ``fields`` (key, cell width) to show so they fit ``width`` on one line.

    Fields are joined by a ``separator`` cells wide; the first field (the state) carries no
    separator. Fields not in :data:`STATUS_DROP_ORDER` are always kept (the text is then cut
    with an ellipsis by the widget if they alone do not fit).
    """
    kept = [key for key, _ in fields]
    cells = dict(fields)

    def total() -> int:
        return sum(cells[k] for k in kept) + separator * max(0, len(kept) - 1)

    for key in STATUS_DROP_ORDER:
        if total() <= width:
            break
        if key in kept:
            kept.remove(key)
    return kept
