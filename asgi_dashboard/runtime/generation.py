"""One server generation as the supervisor sees it: its process, its pipes, its state.

:class:`ChildProcess` is what :mod:`.supervisor` keeps per generation; :class:`DirectChild` gives a
process that is our own child (spawned, or forked early by the CLI) the same asyncio surface as
one forked by the warm process (:class:`.warmclient.ForkedProcess`); :class:`EventPipeReader`
reassembles the event pipe's frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..eventpipe import FrameReader
from ..events import ConsoleOutput, Event, LogRecord, ServerStopped, StopReason
from .launch import LaunchHow, ServerProcess
from .warmclient import pipe_reader

#: Lines of a server process's stderr kept for the crash page and event.
STDERR_TAIL = 12


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
    how: LaunchHow = "spawn"
    #: Its worker index with ``--workers N`` (1..N), 0 for the only server process.
    worker: int = 0
    stop_requested: bool = False
    failed: bool = False
    started: bool = False
    #: The process has exited (set as soon as its exit is noticed).
    exited: bool = False
    #: ``time.monotonic()`` when it was launched, and when it reported that it serves.
    launched_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL))
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def starting(self) -> bool:
        return not (self.started or self.failed or self.exited)

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

    def stop_reason(self, runtime_stopping: bool) -> StopReason:
        """Why it exited: it failed to load, it was asked to (or the dashboard stops), or not."""
        if self.failed:
            return "failed"
        return "requested" if self.stop_requested or runtime_stopping else "crashed"

    async def outputs_done(self) -> None:
        """Until its event pipe and its stdout/stderr pumps have ended (bounded: a process the
        server started may have inherited its pipes), so that every event it wrote comes
        before its ServerStopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.events_closed), 2.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self.tasks[:2], return_exceptions=True), 2.0)

    def stopped(
        self, code: int, reason: StopReason, restart_in: float | None, crash_loop: bool
    ) -> ServerStopped:
        """The event reporting its exit with ``code`` (negative: the signal that ended it)."""
        signame = None
        if code < 0:
            with contextlib.suppress(ValueError):
                signame = signal.Signals(-code).name
        return ServerStopped(
            pid=self.pid,
            generation=self.generation,
            worker=self.worker,
            exit_code=code if code >= 0 else None,
            signal=signame,
            reason=reason,
            restart_in_s=restart_in,
            crash_loop=crash_loop,
            stderr_tail=tuple(self.stderr_tail) if reason == "crashed" else (),
        )


async def pump_output(
    child: ChildProcess,
    stream: asyncio.StreamReader,
    name: Literal["stdout", "stderr"],
    emit: Callable[[Event], None],
) -> None:
    """Report each line the process writes to ``stream`` (its stderr's also kept for the crash
    page and event) until the pipe closes."""
    while True:
        line = await stream.readline()
        if not line:
            return
        text = line.decode("utf-8", errors="replace").rstrip("\n")
        if name == "stderr":
            child.stderr_tail.append(text)
        emit(ConsoleOutput(stream=name, text=text))


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
