"""The default runtime: the project's server in a supervised child process.

The parent binds the listening socket once and every child generation inherits it, so the port
survives restarts and a connection that arrives mid-restart waits in the backlog instead of being
refused. A view that blocks its event loop, or a crash, cannot freeze or kill the dashboard.

Per child, the parent reads three pipes: the event pipe (:mod:`..eventpipe` frames), stdout and
stderr (console lines). A stop is a ``stop`` line on the control pipe (the child stops accepting at
once and drains in-flight work for at most ``graceful_timeout``), escalated to SIGKILL of that
child's own PID if it does not exit in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..eventpipe import FrameReader
from ..events import (
    ConsoleOutput,
    Event,
    LogRecord,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
)
from .base import Runtime
from .launch import (
    GenerationPipes,
    Prespawned,
    ServerProcess,
    child_env,
    claim_prespawned,
    spawn_child,
)
from .reloader import Decision
from .sockets import BindError, bind_socket, url_for
from .warmclient import ForkLauncher, pipe_reader

#: Seconds between the first server answering and the warm process starting to load.
WARM_DELAY_S = 1.0


class EventPipeReader(asyncio.Protocol):
    """Reassembles the event pipe's frames (:mod:`..eventpipe`); one callback per chunk read."""

    def __init__(
        self, deliver: Callable[[list[Event]], None], closed: asyncio.Future[None]
    ) -> None:
        self.deliver = deliver
        self.closed = closed
        self.frames = FrameReader()

    def data_received(self, data: bytes) -> None:
        batch, problems = self.frames.feed(data)
        for problem in problems:
            batch.append(
                LogRecord(logger="asgi_dash", level="WARNING", message=f"Bad event: {problem}")
            )
        if batch:
            self.deliver(batch)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class ProcessLike(Protocol):
    """What the supervisor needs from a server process: a subprocess or a forked one."""

    pid: int

    async def wait(self) -> int: ...

    def kill(self) -> None: ...


@dataclass(eq=False)
class ChildProcess:
    """One server generation."""

    process: ProcessLike
    generation: int
    control_fd: int
    events_closed: asyncio.Future[None]
    #: "spawn" (a fresh interpreter) or "fork" (forked from the warm process).
    how: str = "spawn"
    stop_requested: bool = False
    failed: bool = False
    started: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, line: bytes) -> bool:
        with contextlib.suppress(OSError):  # already gone
            os.write(self.control_fd, line + b"\n")
            return True
        return False

    def request_stop(self) -> None:
        if self.stop_requested:
            return
        self.stop_requested = True
        self.send(b"stop")


class DirectChild:
    """A server process that is our own child (:class:`.launch.ServerProcess`: spawned, or
    forked by the CLI) with the asyncio surface of :class:`ProcessLike`.

    Its exit is awaited through a pidfd on the event loop (Linux), else in a thread.
    """

    def __init__(self, process: ServerProcess) -> None:
        self.process = process
        self.pid = process.pid
        self._exit: asyncio.Future[int] | None = None

    async def readers(self) -> tuple[asyncio.StreamReader, asyncio.StreamReader]:
        """StreamReaders over the process's stdout and stderr."""
        return (
            await pipe_reader(self.process.stdout_fd),
            await pipe_reader(self.process.stderr_fd),
        )

    async def wait(self) -> int:
        if self._exit is None:
            self._exit = asyncio.get_running_loop().create_future()
            self._watch(self._exit)
        return await asyncio.shield(self._exit)

    def _watch(self, done: asyncio.Future[int]) -> None:
        loop = done.get_loop()

        def finish(code: int | None) -> None:
            if not done.done():
                done.set_result(-1 if code is None else code)

        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # not Linux, or already reaped: a thread waits
            task = loop.create_task(asyncio.to_thread(self.process.reap, block=True))
            task.add_done_callback(lambda t: finish(t.result() if not t.exception() else -1))
            return

        def exited() -> None:
            loop.remove_reader(pidfd)
            os.close(pidfd)
            finish(self.process.reap(block=True))

        loop.add_reader(pidfd, exited)

    def kill(self) -> None:
        self.process.kill()


class ChildRuntime(Runtime):
    """Runs each server generation in a child process that inherits the listening socket."""

    sock: socket.socket | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.children: set[ChildProcess] = set()
        self.current: ChildProcess | None = None
        #: The fork fast path (reloading on only: with --no-reload there is nothing to reuse).
        self.launcher: ForkLauncher | None = None
        self._prewarm: asyncio.Task[None] | None = None
        self._stopping = False

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
        self.start_watching()
        if early is not None and early.process is not None:
            await self._adopt(early)
        else:
            await self._spawn()

    def _bind_failed(self, message: str) -> None:
        self.state = "failed"
        self.emit(ServerFailed(message=message, phase="bind"))

    async def restart(self, reason: str = "manual") -> None:
        await self._replace(time.perf_counter_ns(), None, manual=True)

    async def apply_reload(self, decision: Decision) -> None:
        if decision.action == "templates":
            child = self.current
            if child is not None and child.started and not child.failed:
                payload = {"t0_ns": decision.detected_ns, "paths": list(decision.paths)}
                if child.send(b"templates " + json.dumps(payload).encode()):
                    return
        await self._replace(decision.detected_ns, decision)

    async def _replace(
        self, started_ns: int, decision: Decision | None, *, manual: bool = False
    ) -> None:
        if self.sock is None or self._stopping:
            return
        old = self.current
        self.state = "restarting"
        if old is not None:
            # The old generation stops accepting now and drains in the background while the
            # new one starts on the same socket (waiting for its exit would add ~0.1-0.3 s).
            old.request_stop()
        await self._spawn(started_ns, decision, manual=manual)

    async def stop(self) -> None:
        self._stopping = True
        await self.stop_watching()
        for child in list(self.children):
            child.request_stop()
        deadline = self.config.graceful_timeout + 2.0
        waits = [asyncio.create_task(self._wait_exit(c, deadline)) for c in self.children]
        if waits:
            await asyncio.gather(*waits)
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
            await asyncio.wait_for(child.process.wait(), 5.0)
        # Let the exit watcher report ServerStopped before stop() returns.
        await asyncio.gather(*child.tasks, return_exceptions=True)

    # -- spawning ---------------------------------------------------------------------------

    async def _spawn(
        self, started_ns: int = 0, decision: Decision | None = None, *, manual: bool = False
    ) -> None:
        assert self.sock is not None
        self._announce_generation()
        pipes = GenerationPipes.open(self.config, self.sock, self.generation)
        try:
            process, stdout, stderr, how, reason = await self._launch(pipes.spec, decision, manual)
        except BaseException:
            pipes.close_parent_ends()
            raise
        finally:
            pipes.close_child_ends()
        if started_ns:
            path = "manual" if manual else how
            self.expect_generation(self.generation, path, started_ns, decision, reason)
        await self._attach(process, stdout, stderr, how, pipes.event_r, pipes.control_w)

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
        how: str,
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
            asyncio.create_task(self._pump_output(stdout, "stdout")),
            asyncio.create_task(self._pump_output(stderr, "stderr")),
        ]
        child.tasks.append(asyncio.create_task(self._watch_exit(child)))

    def warm_files(self) -> frozenset[str]:
        return self.launcher.files() if self.launcher is not None else frozenset()

    async def _launch(
        self, spec: dict[str, object], decision: Decision | None, manual: bool
    ) -> tuple[ProcessLike, asyncio.StreamReader, asyncio.StreamReader, str, str]:
        """Start a server process for ``spec``: forked from the warm process when possible,
        else a fresh interpreter. Returns it, its stdout/stderr, "fork"/"spawn" and why."""
        assert self.sock is not None
        if self.launcher is None and self.config.reload:
            self.launcher = ForkLauncher(self.config, self.sock, child_env(self.config))
        elif self.launcher is not None:
            # A warm process (re)built from now on gets the project's .env as it is now.
            self.launcher.env = child_env(self.config)
        # The first generation is a plain child: the warm process is built once it serves, so
        # the first start is not slowed down by it (see _from_child).
        if self.launcher is not None and self.generation > 1:
            # A manual restart also rebuilds: the user may have changed something we do not
            # watch (an installed package, an environment variable).
            rebuild = manual or (decision is not None and decision.action == "rebuild")
            forked = await self.launcher.launch(spec, rebuild=rebuild)
            if forked is not None:
                if rebuild:
                    why = decision.reason if decision is not None else "manual restart"
                    return (*forked, "spawn", f"warm process rebuilt: {why}")
                return (*forked, "fork", "")
        reason = self.launcher.reason if self.launcher is not None else ""
        process, stdout, stderr = await self._spawn_process(spec)
        return process, stdout, stderr, "spawn", reason

    async def _spawn_process(
        self, spec: dict[str, object]
    ) -> tuple[ProcessLike, asyncio.StreamReader, asyncio.StreamReader]:
        process = DirectChild(spawn_child(self.config, spec))
        stdout, stderr = await process.readers()
        return process, stdout, stderr

    def _from_child(self, child: ChildProcess, batch: list[Event]) -> None:
        for event in batch:
            if isinstance(event, ServerStarted):
                child.started = True
                if self.launcher is not None and self._prewarm is None:
                    self._prewarm = asyncio.create_task(self._build_warm(), name="build_warm")
                if child is self.current:
                    self.state = "running"
            elif isinstance(event, ServerFailed):
                child.failed = True
                if child is self.current:
                    self.state = "failed"
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

    async def _pump_output(self, stream: asyncio.StreamReader, name: str) -> None:
        while True:
            line = await stream.readline()
            if not line:
                return
            text = line.decode("utf-8", errors="replace").rstrip("\n")
            self.emit(ConsoleOutput(stream=name, text=text))  # type: ignore[arg-type]

    async def _watch_exit(self, child: ChildProcess) -> None:
        code = await child.process.wait()
        # All events the child wrote come before its ServerStopped.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(child.events_closed), 2.0)
        await asyncio.gather(*child.tasks[:2], return_exceptions=True)
        os.close(child.control_fd)
        self.children.discard(child)
        signame = None
        if code < 0:
            with contextlib.suppress(ValueError):
                signame = signal.Signals(-code).name
        reason = "requested" if child.stop_requested or self._stopping else "crashed"
        if child.failed:
            reason = "failed"
        self.emit(
            ServerStopped(
                pid=child.pid,
                generation=child.generation,
                exit_code=code if code >= 0 else None,
                signal=signame,
                reason=reason,  # type: ignore[arg-type]
            )
        )
        if child is self.current and reason == "crashed":
            self.state = "crashed"
