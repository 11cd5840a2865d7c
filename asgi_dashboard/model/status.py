"""The server status the status bar shows, derived from lifecycle events (never polled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED
from ..events import (
    Event,
    LayerOp,
    LoopLag,
    ProcessAttached,
    ProcessDetached,
    RequestFinished,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
    WsOpened,
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
    #: Channel-layer messages dropped (ChannelFull or expired); each dropping operation also
    #: counts once in ``errors``.
    layer_drops: int = 0
    #: Warnings for the whole run (a server listening beyond loopback, a busy default port
    #: so another was taken): printed before the TUI starts they would be wiped at once.
    notices: tuple[str, ...] = ()
    #: ``--workers N``: the serving generation's workers, index -> pid (empty for one process),
    #: and that generation.
    workers: dict[int, int] = field(default_factory=dict)
    workers_generation: int = 0
    #: Worker indexes seen on any event (the log's worker column shows once two have been).
    seen_workers: set[int] = field(default_factory=set)
    #: Several workers share an in-memory channel layer: group messages do not cross them.
    layer_warning: str | None = None
    #: ``asgi-dash collect``: the processes attached now (pid -> worker index).
    attached: dict[int, int] = field(default_factory=dict)

    @property
    def multi_worker(self) -> bool:
        """More than one worker has been seen: the log shows which one served each row."""
        return len(self.seen_workers) > 1

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
                if event.worker:
                    self.seen_workers.add(event.worker)
                self.requests += 1
                self.errors += event.error is not None or (
                    event.status >= 500 and event.cancelled is None
                )
            case LayerOp(dropped=dropped) if dropped:
                # Messages a channel layer dropped (ChannelFull, expired): errors, never silent.
                self.errors += 1
                self.layer_drops += dropped
            case ServerStarting():
                self.state = "restarting" if self.starts or self.failure else "starting"
                self.mode = event.mode
                self.generation = event.generation
            case WsOpened():
                seen = len(self.seen_workers)
                if event.worker:
                    self.seen_workers.add(event.worker)
                return len(self.seen_workers) != seen
            case ServerStarted():
                # One start per generation: its other workers (or one restarted after a crash)
                # join it (see _worker_started).
                if self._worker_started(event):
                    self.starts += 1
                    self.started_ts = event.ts
                self.state = "running"
                self.url, self.mode = event.url, event.mode
                self.pid = self.workers[min(self.workers)] if self.workers else event.pid
                self.generation = event.generation
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
                if self._worker_stopped(event):
                    return True  # other workers of the generation still serve
                if self.state != "failed":
                    self.state = {"crashed": "crashed", "failed": "failed"}.get(
                        event.reason, "stopped"
                    )  # type: ignore[assignment]
                self.crash = event if event.reason == "crashed" else None
                self.started_ts = None
            case ProcessAttached():
                self.attached[event.pid] = event.worker
                if event.worker:
                    self.seen_workers.add(event.worker)
            case ProcessDetached():
                return self.attached.pop(event.pid, None) is not None
            case _:
                return False
        return True

    def _worker_started(self, event: ServerStarted) -> bool:
        """Record a started worker (``--workers N``); True if it starts a new generation."""
        new = event.generation != self.workers_generation or not event.worker
        if new:
            self.workers, self.workers_generation = {}, event.generation
        if event.worker:
            self.workers[event.worker] = event.pid
            self.seen_workers.add(event.worker)
        self.layer_warning = (
            "in-memory channel layer: groups stay in one worker"
            if channel_layer_warning(event)
            else None
        )
        return new

    def _worker_stopped(self, event: ServerStopped) -> bool:
        """Forget a stopped worker; True while other workers of its generation still serve."""
        if not event.worker or event.generation != self.workers_generation:
            return False
        if self.workers.get(event.worker) == event.pid:
            del self.workers[event.worker]
        if not self.workers:
            return False
        self.pid = self.workers[min(self.workers)]
        return True


def channel_layer_warning(event: ServerStarted) -> str | None:
    """What to say when several workers share an in-memory channel layer (else None)."""
    if event.workers <= 1 or not (event.channel_layer or "").endswith("InMemoryChannelLayer"):
        return None
    return (
        f"{event.channel_layer} with {event.workers} workers: group messages (Channels groups, "
        "group_send) do not cross worker processes. Set REDIS_URL (the demo then uses "
        "channels_redis) or configure a shared layer such as channels_redis."
    )


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
    "workers",
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
