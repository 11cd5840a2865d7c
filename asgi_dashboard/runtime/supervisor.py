"""The default runtime: the project's server in a supervised child process.

The parent binds the listening socket once and every child generation inherits it, so the port
survives restarts and a connection that arrives mid-restart waits in the backlog instead of being
refused. A view that blocks its event loop, or a crash, cannot freeze or kill the dashboard.

Per child, the parent reads three pipes: the event pipe (:mod:`..eventpipe` frames), stdout and
stderr (console lines). A stop is a ``stop`` line on the control pipe (the child stops accepting at
once and drains in-flight work for at most ``graceful_timeout``), escalated to SIGKILL of that
child's own PID if it does not exit in time.

**Bursts of saves.** A change that arrives while a generation is starting (or another one still
drains) is folded into one pending reload (:mod:`.folding`): a burst makes at most two restarts.

**Crashes.** When the serving generation dies on its own, the dashboard answers on the socket
itself (a 503 page, :mod:`.crash`) until a new generation serves, and restarts it with a backoff;
a crash loop stops the automatic restarts until a save or ``r``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time

from ..config import DashboardConfig
from ..events import (
    Event,
    ReloadVia,
    ServerFailed,
    ServerStarted,
    ServerStarting,
)
from .base import EventCallback, Runtime
from .crash import CrashPolicy, CrashStandIn, crash_page
from .folding import ReloadFolding
from .generation import ChildProcess, DirectChild, EventPipeReader, ProcessLike, pump_output
from .launch import GenerationPipes, LaunchHow, Prespawned, child_env, claim_prespawned
from .reloader import Decision
from .sockets import BindError, bind_socket, url_for
from .spec import ServerSpec, TemplatesCommand
from .starting import Launched, launch_process
from .warmclient import ForkLauncher

#: Seconds between the first server answering and the warm process starting to load.
WARM_DELAY_S = 1.0
#: A stopped generation gets ``graceful_timeout`` plus this long to exit before SIGKILL.
DRAIN_MARGIN_S = 1.0


class ChildRuntime(ReloadFolding, Runtime):
    """Runs each server generation in a child process that inherits the listening socket."""

    sock: socket.socket | None = None

    def __init__(self, config: DashboardConfig, on_events: EventCallback) -> None:
        super().__init__(config, on_events)
        self.children: set[ChildProcess] = set()
        self.current: ChildProcess | None = None
        #: The fork fast path (reloading on only: with --no-reload there is nothing to reuse).
        self.launcher: ForkLauncher | None = None
        self._prewarm: asyncio.Task[None] | None = None
        self._stopping = False
        self._init_folding()
        self._reapers: set[asyncio.Task[None]] = set()
        #: After a crash: the backoff policy, the scheduled restart, the 503 stand-in.
        self.crashes = CrashPolicy()
        self._crash_restart: asyncio.Task[None] | None = None
        self.standin = CrashStandIn(self.emit, self._serving_generation)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        early = claim_prespawned(self.config)
        if early is not None and early.bind_error is not None:
            self._bind_failed(early.bind_error)
            return
        if early is not None:
            self.sock = early.sock
        else:
            try:
                self.sock = bind_socket(self.config.host, self.config.port)
            except BindError as exc:
                self._bind_failed(str(exc))
                return
        assert self.sock is not None
        self.url = url_for(self.sock, self.config.host)
        if self.config.reload:
            # Before the first generation, adopted or not: the warm process is built once it
            # serves (see _from_child), so the first edit can fork too.
            self.launcher = ForkLauncher(self.config, self.sock, child_env(self.config))
        self.start_watching()
        if early is not None and early.process is not None:
            await self._adopt(early)
        else:
            await self._spawn()

    def _bind_failed(self, message: str) -> None:
        self.state = "failed"
        self.emit(ServerFailed(message=message, phase="bind"))

    async def restart(self, reason: str = "manual") -> None:
        self.crashes.reset()  # the user asked: a crash loop gets another chance
        await self._replace(time.perf_counter_ns(), None, manual=True)

    async def apply_reload(self, decision: Decision) -> None:
        self.crashes.reset()  # a save may have fixed what made it crash
        # Templates need no new generation (a draining one does not matter), only a serving one.
        if (
            decision.action == "templates"
            and self._folded is None
            and not self._starting()
            and self._reset_templates(decision)
        ):
            return
        await self._replace(decision.detected_ns, decision)

    def _reset_templates(self, decision: Decision) -> bool:
        """Ask the serving generation to reset its template loaders; False if it cannot."""
        child = self.current
        if child is None or not child.started or child.failed or child.exited:
            return False
        payload: TemplatesCommand = {"t0_ns": decision.detected_ns, "paths": list(decision.paths)}
        return child.send(b"templates " + json.dumps(payload).encode())

    async def _replace(
        self,
        started_ns: int,
        decision: Decision | None,
        *,
        manual: bool = False,
        why: str = "",
    ) -> None:
        """Start a new generation now, or fold the request into the next one if a generation
        is starting or another one is still draining."""
        if self.sock is None or self._stopping:
            return
        if self._crash_restart is not None:
            self._crash_restart.cancel()  # this restart replaces the scheduled one
            self._crash_restart = None
        if self._busy():
            self._fold(started_ns, decision, manual, why)
            return
        await self._replace_now(started_ns, decision, manual=manual, why=why)

    async def _replace_now(
        self, started_ns: int, decision: Decision | None, *, manual: bool, why: str = ""
    ) -> None:
        old = self.current
        self.state = "restarting"
        if old is not None and not old.exited:
            # The old generation stops accepting now and drains in the background while the
            # new one starts on the same socket (waiting for its exit would add ~0.1-0.3 s).
            old.request_stop()
            self._reap_later(old)
        await self._spawn(started_ns, decision, manual=manual, why=why)

    def _reap_later(self, child: ChildProcess) -> None:
        """SIGKILL a stopped generation that has not exited after its graceful timeout."""
        task = asyncio.create_task(
            self._wait_exit(child, self.config.graceful_timeout + DRAIN_MARGIN_S)
        )
        self._reapers.add(task)
        task.add_done_callback(self._reapers.discard)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        for task in (self._crash_restart, self._folder):
            if task is not None:
                task.cancel()
        self._close_standin()
        await self.stop_watching()
        for child in list(self.children):
            child.request_stop()
        deadline = self.config.graceful_timeout + 2.0
        waits = [asyncio.create_task(self._wait_exit(c, deadline)) for c in self.children]
        if waits:
            await asyncio.gather(*waits)
        if self._reapers:
            await asyncio.gather(*self._reapers, return_exceptions=True)
        if self.launcher is not None:
            await self.launcher.close(2.0)
        if self._prewarm is not None:
            self._prewarm.cancel()  # still waiting to start; a build under way was ended above
            # close() ended a warm process still loading, which ends the build too.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(self._prewarm, return_exceptions=True), 5)
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.state = "stopped"

    async def _wait_exit(self, child: ChildProcess, timeout: float) -> None:
        try:
            await asyncio.wait_for(child.process.wait(), timeout)
        except TimeoutError:
            # Only ever our own child, by its PID (a forked one by its pidfd).
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child.process.wait(), 5.0)
        # Let the exit watcher report ServerStopped before stop() returns.
        await asyncio.gather(*child.tasks, return_exceptions=True)

    # -- spawning ---------------------------------------------------------------------------

    async def _spawn(
        self,
        started_ns: int = 0,
        decision: Decision | None = None,
        *,
        manual: bool = False,
        why: str = "",
    ) -> None:
        assert self.sock is not None
        self._launching = True
        try:
            self._announce_generation()
            pipes = GenerationPipes.open(self.config, self.sock, self.generation)
            try:
                launched = await self._launch(pipes.spec, decision, manual)
            except BaseException:
                pipes.close_parent_ends()
                raise
            finally:
                pipes.close_child_ends()
            if started_ns:
                path: ReloadVia = "manual" if manual else launched.how
                reason = "; ".join(r for r in (why, launched.reason) if r)
                self.expect_generation(self.generation, path, started_ns, decision, reason)
            await self._attach(
                launched.process,
                launched.stdout,
                launched.stderr,
                launched.how,
                pipes.event_r,
                pipes.control_w,
            )
        finally:
            self._launching = False
            self._wake.set()

    def _announce_generation(self) -> None:
        self.generation += 1
        self.state = "starting" if self.generation == 1 else "restarting"
        self.emit(
            ServerStarting(
                mode="child",
                generation=self.generation,
                project_dir=str(self.config.project_dir),
                settings_module=self.config.settings_module,
                settings_source=self.config.settings_source,
            )
        )

    async def _adopt(self, early: Prespawned) -> None:
        """Take over generation 1, spawned by the CLI before the dashboard was imported."""
        self._announce_generation()
        assert early.process is not None
        process = DirectChild(early.process)
        stdout, stderr = await process.readers()
        await self._attach(process, stdout, stderr, early.how, early.event_r, early.control_w)

    async def _attach(
        self,
        process: ProcessLike,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        how: LaunchHow,
        event_r: int,
        control_w: int,
    ) -> None:
        """Read a started generation's pipes and watch for its exit."""
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[None] = loop.create_future()
        child = ChildProcess(process, self.generation, control_w, closed, how=how)
        self.children.add(child)
        self.current = child
        self.pid = process.pid
        await loop.connect_read_pipe(
            lambda: EventPipeReader(lambda batch: self._from_child(child, batch), closed),
            os.fdopen(event_r, "rb", buffering=0),
        )
        child.tasks = [
            asyncio.create_task(pump_output(child, stdout, "stdout", self.emit)),
            asyncio.create_task(pump_output(child, stderr, "stderr", self.emit)),
        ]
        child.tasks.append(asyncio.create_task(self._watch_exit(child)))

    def warm_files(self) -> frozenset[str]:
        return self.launcher.files() if self.launcher is not None else frozenset()

    async def _launch(self, spec: ServerSpec, decision: Decision | None, manual: bool) -> Launched:
        """Start a server process for ``spec`` (see :func:`.starting.launch_process`)."""
        assert self.sock is not None
        if self.launcher is None and self.config.reload:
            self.launcher = ForkLauncher(self.config, self.sock, child_env(self.config))
        elif self.launcher is not None:
            # A warm process (re)built from now on gets the project's .env as it is now.
            self.launcher.env = child_env(self.config)
        return await launch_process(self.config, spec, self.launcher, decision, manual)

    def _from_child(self, child: ChildProcess, batch: list[Event]) -> None:
        for event in batch:
            if isinstance(event, ServerStarted):
                child.started = True
                child.started_at = time.monotonic()
                self._wake.set()
                if self.launcher is not None and self._prewarm is None:
                    self._prewarm = asyncio.create_task(self._build_warm(), name="build_warm")
                if child is self.current:
                    self.state = "running"
                    self._close_standin()  # the new generation answers from now on
            elif isinstance(event, ServerFailed):
                child.failed = True
                self._wake.set()
                if child is self.current:
                    self.state = "failed"
                    self._close_standin()  # it serves its own error page
        self.deliver(batch)

    async def _build_warm(self) -> None:
        """Get the warm process ready in the background, a moment after the first server is up.

        The wait lets the first requests (often the one the user is waiting for) run without a
        second interpreter importing Django on the same cores (bench figure 5, cold start); a
        reload before the warm process is ready respawns instead, as it would without one.
        """
        await asyncio.sleep(WARM_DELAY_S)
        if self.launcher is not None and not self.launcher.disabled and not self._stopping:
            with contextlib.suppress(Exception):  # a failure means respawns; launch() says why
                await self.launcher.ensure_warm()

    async def _watch_exit(self, child: ChildProcess) -> None:
        code = await child.process.wait()
        child.exited = True
        self._wake.set()
        crashed = child is self.current and not (
            child.stop_requested or child.failed or self._stopping
        )
        if crashed:
            # Answer on the socket at once: connections would otherwise wait in the backlog.
            self._set_crash_page(child, code, None, crash_loop=False)
            await self._open_standin()
        await child.outputs_done()
        os.close(child.control_fd)
        self.children.discard(child)
        reason = child.stop_reason(self._stopping)
        restart_in: float | None = None
        crash_loop = False
        if reason == "crashed" and child is self.current and not self._stopping:
            ran = None if child.started_at is None else time.monotonic() - child.started_at
            restart_in = self.crashes.crashed(ran)
            crash_loop = restart_in is None
            self._set_crash_page(child, code, restart_in, crash_loop=crash_loop)
        elif crashed:
            self._close_standin()  # it reported ServerFailed after all
        self.emit(child.stopped(code, reason, restart_in, crash_loop))
        if child is self.current and reason == "crashed":
            self.state = "crashed"
            if restart_in is not None and not self._stopping:
                self._crash_restart = asyncio.create_task(
                    self._restart_after_crash(restart_in), name="restart_after_crash"
                )

    async def _restart_after_crash(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._crash_restart = None
        await self._replace(time.perf_counter_ns(), None, why="restarted after a crash")

    # -- the 503 stand-in while the server is down ----------------------------------------------

    def _serving_generation(self) -> int:
        return self.current.generation if self.current is not None else self.generation

    def _set_crash_page(
        self, child: ChildProcess, code: int, restart_in: float | None, *, crash_loop: bool
    ) -> None:
        self.standin.page = crash_page(
            child.generation,
            child.pid,
            code,
            tuple(child.stderr_tail),
            restart_in,
            crash_loop=crash_loop,
        )

    async def _open_standin(self) -> None:
        if self.sock is None or self._stopping:
            return
        await self.standin.open(self.sock)

    def _close_standin(self) -> None:
        self.standin.close()
