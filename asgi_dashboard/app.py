"""The Textual app: server lifecycle, the event pump, global keys and the command palette.

Kept small on purpose: the screens and widgets do the showing; this module

* creates the runtime (``make_runtime`` unless a factory is given, e.g. a scripted one in tests),
  starts it in a named worker on mount and stops it before exiting (so the port is freed and no
  process is left behind);
* buffers the runtime's event batches (:class:`~asgi_dashboard.pump.EventBuffer`) and flushes
  them to the model (:class:`~asgi_dashboard.model.Dashboard`) in bounded chunks, so a flood of
  events never starves input handling; each flush posts the batch's
  :class:`~asgi_dashboard.model.ChangeSet` to the main screen;
* handles every worker's failure in one place;
* exits with the codes headless mode uses (:meth:`DashboardApp.exit_status`): 2 when the port
  could not be bound and 3 when the project failed to load (and never started since), 1 when the
  server crashed with reloading off or the runtime did not stop in time, else 0;
* turns a busy port into a choice, not a dead end: ``r`` retries the bind, ``n`` starts on a
  free port (port 0) instead.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual import events, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import app_commands
from .app_commands import AppActions
from .config import DashboardConfig
from .events import Event, ServerFailed
from .gc_schedule import GC_QUIET_S, full_gc_due, settle_gc
from .model import Dashboard
from .pump import EventBuffer
from .runtime.base import EventCallback, Runtime
from .screens.main import MainScreen

RuntimeFactory = Callable[[DashboardConfig, EventCallback], Runtime]

#: Extra seconds (beyond the configured graceful timeout) we wait for the runtime to stop.
STOP_MARGIN = 5.0


class DashboardApp(AppActions):
    """asgi-dash."""

    CSS_PATH = "app.tcss"
    TITLE = "asgi-dash"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("r,ctrl+r", "restart_server", "Restart"),
        # Only while the port could not be bound (check_action hides it otherwise).
        Binding("n", "start_on_free_port", "Free port"),
        Binding("question_mark,f1", "help", "Help"),
        # Diagnostics (asgi_dashboard.app_commands opens their screens).
        Binding("m", "middleware_audit", "Middleware", show=False),
        Binding("b", "compare_views", "Compare", show=False),
        Binding("R", "replay_request", "Replay", show=False),
        Binding("E", "open_in_editor", "Editor", show=False),
    ]

    def __init__(
        self,
        config: DashboardConfig,
        runtime_factory: RuntimeFactory,
        *,
        discover: bool = True,
        notices: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.config = config
        #: Warnings shown in the status bar for the whole run (ServerStatus.notices).
        self.notices: tuple[str, ...] = tuple(notices)
        if not config.is_loopback:
            from .config import exposure_warning

            # First: the bar holds two lines, and this one matters most.
            self.notices = (exposure_warning(config.host), *self.notices)
        #: Whether panels may run the project's tools (route and user discovery for WebSockets).
        self.discover = discover
        #: Wall clock for uptime; tests replace it to make snapshots deterministic.
        self.clock: Callable[[], float] = time.time
        self.model = Dashboard(
            history=max(1, config.history), reload=config.reload, notices=self.notices
        )
        self.runtime = runtime_factory(config, self.receive_events)
        self._buffer = EventBuffer()
        #: monotonic() of the last key or mouse input, and of the last full GC (see settle_gc).
        self.last_input = 0.0
        self.last_full_gc = time.monotonic()
        self._stopping = False
        self._stopped = False
        #: The runtime did not stop within its bound (exit status 1).
        self._stop_timed_out = False
        #: Events ingested so far (tests wait on it; also handy in the devtools console).
        self.events_ingested = 0

    def get_default_screen(self) -> Screen[None]:
        self._main = MainScreen(
            self.model,
            lambda: self.clock(),
            config=self.config,
            runtime_url=lambda: self.runtime.url,
            discover=self.discover,
        )
        return self._main

    def on_mount(self) -> None:
        self.start_server()
        self.call_after_refresh(settle_gc)
        self.set_interval(GC_QUIET_S, self.collect_when_quiet, name="collect_when_quiet")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollUp):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def collect_when_quiet(self) -> None:
        """The full garbage collection :func:`settle_gc` took off the automatic schedule."""
        if full_gc_due(time.monotonic(), self.last_input, self.last_full_gc):
            gc.collect()
            self.last_full_gc = time.monotonic()

    # -- server lifecycle -----------------------------------------------------------------------

    @work(exclusive=True, name="start_server", group="server", exit_on_error=False)
    async def start_server(self) -> None:
        await self.runtime.start()

    @work(name="restart_server", group="restart", exclusive=True, exit_on_error=False)
    async def restart_server(self, reason: str) -> None:
        await self.runtime.restart(reason)

    @work(name="stop_server", group="stop", exit_on_error=False)
    async def stop_server_and_exit(self) -> None:
        try:
            await self.stop_runtime()
        finally:
            self.exit_with_status()

    def exit_status(self) -> int:
        """The process's exit code, as headless mode would have it (see the module docstring)."""
        return 1 if self._stop_timed_out else self.model.status.exit_code(self.config.reload)

    def exit_with_status(self) -> None:
        code = self.exit_status()
        self.exit(code, return_code=code)

    @property
    def bind_failed(self) -> bool:
        """The server never got its port (it is busy, or the address is not ours)."""
        return self.runtime.state == "failed" and self.runtime.url is None

    async def stop_runtime(self) -> None:
        """Stop the server once, bounded in time."""
        if self._stopped:
            return
        self._stopped = True
        timeout = self.config.graceful_timeout + STOP_MARGIN
        try:
            await asyncio.wait_for(self.runtime.stop(), timeout)
        except TimeoutError:
            self._stop_timed_out = True
            self.log.error(f"runtime did not stop within {timeout} s")

    async def on_unmount(self) -> None:
        # Any other way out (an exception, App.exit() from elsewhere) must still free the port.
        await self.stop_runtime()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures are reported."""
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        error = worker.error
        if worker.name == "start_server":
            # Show it like any failed start: in the error panel, with the app still open.
            self.receive_events(
                [ServerFailed(message=f"The server could not be started: {error}", phase="runtime")]
            )
        elif worker.name == "stop_server":
            self.exit(1, return_code=1)
        else:
            self.notify(
                f"{worker.name.replace('_', ' ')} failed: {error}", severity="error", timeout=8
            )

    # -- the event pump ---------------------------------------------------------------------------

    def receive_events(self, batch: Sequence[Event]) -> None:
        """The runtime's callback (on this loop's thread): buffer, flush soon."""
        if self._stopped:
            self._buffer.pending.extend(batch)
            return
        delay = self._buffer.add(batch, time.monotonic())
        if delay is None:
            return
        if delay <= 0:
            self.call_later(self._flush_events)
        else:
            self.set_timer(delay, self._flush_events, name="flush_events")

    def _flush_events(self) -> None:
        chunk = self._buffer.take(time.monotonic())
        if chunk:
            self.events_ingested += len(chunk)
            changes = self.model.ingest(chunk)
            self.main_screen.post_message(MainScreen.EventsIngested(changes))
            if changes.failure is not None or changes.started:
                # The ``n`` key appears or goes (it depends on whether the port was bound).
                self.refresh_bindings()
        if self._buffer.more():
            # More to do: let input and rendering run before the next chunk.
            self.set_timer(self._buffer.interval, self._flush_events, name="flush_events")

    @property
    def events_pending(self) -> int:
        return len(self._buffer.pending)

    @property
    def _flush_scheduled(self) -> bool:
        return self._buffer.scheduled

    # -- actions ----------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self._stopping:
            # Second press: leave now (the runtime's own cleanup still runs in on_unmount).
            self.exit_with_status()
            return
        self._stopping = True
        self.notify("Stopping the server…", timeout=3)
        self.stop_server_and_exit()

    @property
    def controls_server(self) -> bool:
        """False for ``asgi-dash collect``: the attached processes are not ours to restart."""
        return bool(getattr(self.runtime, "controls_server", True))

    def action_restart_server(self) -> None:
        if not self.controls_server:
            self.notify("Restart: not available while collecting", timeout=3)
            return
        if self.bind_failed:
            # Nothing to restart: the port was never bound. Try binding it again.
            self.notify(f"Retrying port {self.config.port}…", timeout=2)
            self.start_server()
            return
        self.notify("Restarting the server…", timeout=2)
        self.restart_server("manual")

    def action_start_on_free_port(self) -> None:
        if not self.bind_failed:
            return
        self.config = self.config.with_port(0)
        self.runtime.config = self.config
        self.main_screen.config = self.config
        self.notify("Starting on a free port…", timeout=2)
        self.start_server()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "start_on_free_port":
            return self.bind_failed and self.controls_server
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from app_commands.system_commands(self, screen)


def make_app(
    config: DashboardConfig,
    runtime_factory: Callable[[DashboardConfig, EventCallback], Runtime] | None = None,
    *,
    notices: Sequence[str] = (),
) -> DashboardApp:
    """The app the CLI runs and the tests drive: same factory, different runtimes.

    With a custom ``runtime_factory`` (a scripted runtime in tests) there is no real project
    behind the app, so panels do not run project tools (WebSocket route and user discovery).
    """
    discover = runtime_factory is None
    if runtime_factory is None:
        from .runtime import make_runtime

        runtime_factory = make_runtime
    return DashboardApp(config, runtime_factory, discover=discover, notices=notices)
