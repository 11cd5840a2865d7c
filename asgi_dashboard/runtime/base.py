"""The runtime interface the UI and the headless printer talk to.

A runtime starts the project's server (in a supervised child process, or in this process's own
event loop), and reports everything as :mod:`asgi_dashboard.events` in batches through one
callback. Both runtimes have the same surface, so the UI never knows which one it drives.
"""

from __future__ import annotations

import abc
import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..config import DashboardConfig
from ..events import (
    Event,
    ExceptionInfo,
    ReloadFinished,
    ReloadVia,
    ServerFailed,
    ServerStarted,
)

if TYPE_CHECKING:  # the server process imports this package too: it must not pay for watchfiles
    from .reloader import Decision, Reloader

#: Called on the event loop thread with a batch of events, in order.
EventCallback = Callable[[Sequence[Event]], None]

State = Literal["idle", "starting", "running", "restarting", "crashed", "failed", "stopped"]


@dataclass(slots=True)
class PendingReload:
    """A reload whose new generation has not reported yet."""

    generation: int
    #: How the new generation came to be (ReloadFinished.path).
    path: ReloadVia
    started_ns: int
    paths: tuple[str, ...] = ()
    reason: str = ""


@dataclass(slots=True)
class FoldedReload:
    """Changes (or restart requests) that arrived while a generation was starting or another
    was still draining: applied as one reload once the runtime is free (see
    :meth:`.supervisor.ChildRuntime._replace`), so a burst of saves makes at most two restarts.

    ``started_ns`` is the latest change's: the reload's duration is measured from the last
    save the user made, which is the one they are waiting for.
    """

    started_ns: int
    decision: Decision | None
    manual: bool = False
    #: How many changes were folded into this one.
    count: int = 1
    #: ``time.monotonic()`` of the latest one (the burst is over once it is quiet for a moment).
    last_change: float = 0.0
    why: str = ""
    #: Some of these changes arrived while a generation was starting: a burst, so the reload
    #: waits for the changes to go quiet. (Folded only because an older generation was still
    #: draining, it goes as soon as that one has exited.)
    burst: bool = False

    def add(self, started_ns: int, decision: Decision | None, manual: bool, now: float) -> None:
        self.count += 1
        self.started_ns = max(self.started_ns, started_ns)
        self.manual = self.manual or manual
        self.last_change = now
        if decision is None:
            return
        if self.decision is None:
            self.decision = decision
            return
        rank = {"templates": 0, "restart": 1, "rebuild": 2}
        old, new = self.decision, decision
        keep = new if rank.get(new.action, 1) >= rank.get(old.action, 1) else old
        self.decision = dataclasses.replace(
            keep,
            paths=tuple(sorted({*old.paths, *new.paths})),
            detected_ns=max(old.detected_ns, new.detected_ns),
        )


def subscribed(
    config: DashboardConfig, on_events: EventCallback, emit: Callable[..., None]
) -> EventCallback:
    """The one subscriber hook: ``on_events`` followed by whoever else wants every batch.

    Every runtime (child, in-process, ``collect``) reports through the callback this returns,
    so the TUI, headless output and the subscribers see the same batches in the same order, on
    the event loop's thread. Today's subscriber is the OTLP exporter (``--otlp``:
    asgi_dashboard/otlp), which turns requests into spans after the fact, off the request
    path; its warnings come back as a ``CheckMessage`` through ``emit``.
    """
    if config.otlp is None:
        return on_events
    from ..events import CheckMessage
    from ..otlp.exporter import OtlpExporter

    def warn(text: str) -> None:
        emit(CheckMessage(level="warning", message=text, check_id="asgi_dash.otlp"))

    try:
        exporter = OtlpExporter.from_config(config, warn, config.otlp_keep_secrets)
    except Exception as exc:  # the SDK refused its settings: the dashboard runs without export
        print(f"asgi-dash: warning: --otlp is off: {exc}", file=sys.stderr)
        return on_events

    def publish(batch: Sequence[Event]) -> None:
        on_events(batch)
        exporter(batch)

    return publish


class Runtime(abc.ABC):
    """Runs the server and reports events. Methods are called from the parent's event loop."""

    def __init__(self, config: DashboardConfig, on_events: EventCallback) -> None:
        self.config = config
        #: Where every batch goes: the UI's (or the printer's) callback and the subscribers.
        self.on_events = subscribed(config, on_events, self.emit)
        self.state: State = "idle"
        #: Increases by one for every server started (first start is generation 1).
        self.generation = 0
        #: The URL the server listens on, once bound (the port is known before the app loads).
        self.url: str | None = None
        self.pid: int | None = None
        #: The file watcher (None with ``--no-reload`` or before start()).
        self.reloader: Reloader | None = None
        self._pending: dict[int, PendingReload] = {}

    @abc.abstractmethod
    async def start(self) -> None:
        """Bind the socket and start the server; returns once it is starting (not started)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop the server (bounded by ``config.graceful_timeout``) and free the port."""

    @abc.abstractmethod
    async def restart(self, reason: str = "manual") -> None:
        """Stop the current server and start a new generation on the same socket."""

    def emit(self, *events: Event) -> None:
        """Report events produced by the runtime itself (not by the server)."""
        self.deliver(events)

    def deliver(self, batch: Sequence[Event]) -> None:
        """Hand a batch to the UI, adding ReloadFinished after a reloaded generation reports."""
        extra: list[Event] = []
        for event in batch:
            if isinstance(event, ServerStarted) and self.reloader is not None:
                self.reloader.set_template_dirs(event.template_dirs, [event.media_root])
            if isinstance(event, ServerStarted | ServerFailed):
                pending = self._pending.pop(event.generation, None)
                if pending is not None:
                    extra.append(self._finished(pending, event))
        self.on_events([*batch, *extra] if extra else batch)

    @staticmethod
    def _finished(pending: PendingReload, event: ServerStarted | ServerFailed) -> ReloadFinished:
        error: ExceptionInfo | None = None
        if isinstance(event, ServerFailed):
            error = event.error or ExceptionInfo(
                type="ServerFailed", message=event.message, traceback=""
            )
        return ReloadFinished(
            generation=pending.generation,
            path=pending.path,
            # From the moment the change was seen to the new server listening (or failing).
            duration_ns=time.perf_counter_ns() - pending.started_ns,
            ok=error is None,
            paths=pending.paths,
            error=error,
            reason=pending.reason,
        )

    def expect_generation(
        self,
        generation: int,
        path: ReloadVia,
        started_ns: int,
        decision: Decision | None = None,
        reason: str = "",
    ) -> None:
        """The next ServerStarted/ServerFailed of ``generation`` finishes a reload."""
        self._pending[generation] = PendingReload(
            generation,
            path,
            started_ns,
            decision.paths if decision else (),
            reason or (decision.reason if decision else ""),
        )

    # -- reloading ---------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Start the file watcher if reloading is on (called by start())."""
        if self.config.reload and self.reloader is None:
            from .reloader import Reloader

            self.reloader = Reloader(
                self.config,
                self.apply_reload,
                self.emit,
                warm_files=self.warm_files,
                server_failed=lambda: self.state in ("failed", "crashed"),
            ).start()

    async def stop_watching(self) -> None:
        if self.reloader is not None:
            await self.reloader.stop()

    def warm_files(self) -> frozenset[str]:
        """Source files a warm process has imported (a change there needs a rebuild)."""
        return frozenset()

    async def apply_reload(self, decision: Decision) -> None:
        """Act on a watcher decision: restart, rebuild, or reset templates."""
        await self.restart(decision.reason or "files changed")
