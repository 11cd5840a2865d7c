"""``asgi-dash collect``: the runtime that runs no server, and listens to attached processes.

Processes whose application is wrapped by :func:`asgi_dashboard.attach` (see
:mod:`asgi_dashboard.attaching`) connect to a Unix socket this runtime binds (0600, in a 0700
folder: :mod:`asgi_dashboard.attaching.paths`) and send the frames of
:mod:`asgi_dashboard.eventpipe` a supervised child sends over its pipe. Each connection starts
with a :class:`~asgi_dashboard.events.ProcessAttached` hello, answered with the process's worker
index (1, 2, ... in order of first hello, kept per pid for this run); its events are then
delivered to the UI (or the headless printer) through the same :meth:`Runtime.deliver` path as a
child's. A connection that ends is reported as :class:`~asgi_dashboard.events.ProcessDetached`.

There is no server to control: :meth:`CollectorRuntime.restart` does nothing (the TUI says "not
available while collecting" for its keys, see :attr:`CollectorRuntime.controls_server`).

A socket file left by a collector that crashed is replaced (nothing accepts on it: connect is
refused); a live one is not: :class:`CollectorBusy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import stat

from ..attaching.paths import ENV, private_folder
from ..config import DashboardConfig
from ..eventpipe import FrameReader
from ..events import (
    CheckMessage,
    DetachReason,
    Event,
    ProcessAttached,
    ProcessDetached,
    ServerFailed,
    ServerStarted,
    ServerStopped,
)
from .base import EventCallback, Runtime

#: Bytes read from a connection at a time.
READ_SIZE = 1 << 16


class CollectorBusy(Exception):
    """Another collector accepts on the socket (or the path is not a socket we may replace)."""


def bind_collector_socket(path: str, *, strict: bool = True) -> socket.socket:
    """The listening socket at ``path``, 0600; a stale one replaced, a live one refused."""
    private_folder(path, strict=strict)
    if os.path.lexists(path):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise CollectorBusy(f"{path} exists and is not a socket: remove it or set {ENV}")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1.0)
            probe.connect(path)
        except OSError:
            os.unlink(path)  # nothing accepts on it: a crashed collector's leftover
        else:
            raise CollectorBusy(f"another asgi-dash collect is running on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # created 0600, never readable by others even for an instant
    try:
        sock.bind(path)
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


class CollectorRuntime(Runtime):
    """Listens on the collector socket; every attached process's events reach ``on_events``."""

    #: The TUI's server keys (restart, reload, free port) do not apply: no server is ours.
    controls_server = False

    def __init__(self, config: DashboardConfig, on_events: EventCallback) -> None:
        super().__init__(config, on_events)
        assert config.collect_socket is not None
        self.path = config.collect_socket
        #: Worker index per pid, in order of first hello (kept across reconnects).
        self.workers: dict[int, int] = {}
        self._server: asyncio.AbstractServer | None = None
        self._inode: tuple[int, int] | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        self.state = "starting"
        try:
            sock = bind_collector_socket(self.path, strict=ENV not in os.environ)
        except (OSError, ValueError, CollectorBusy) as exc:
            self.state = "failed"
            self.emit(ServerFailed(message=f"Cannot collect on {self.path}: {exc}", phase="bind"))
            return
        info = os.stat(self.path)
        self._inode = (info.st_dev, info.st_ino)
        self._server = await asyncio.start_unix_server(self._connection, sock=sock)
        self.state, self.url, self.pid = "running", f"unix:{self.path}", os.getpid()
        self.emit(ServerStarted(url=self.url, pid=self.pid, mode="collect", host="unix", port=0))

    async def stop(self) -> None:
        if self._server is None:
            return
        self._stopping = True
        server, self._server = self._server, None
        server.close()
        for writer in list(self._writers):
            writer.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(0.5, self.config.graceful_timeout))
        self._unlink()
        self.state = "stopped"
        self.emit(ServerStopped(pid=os.getpid(), reason="requested"))

    async def restart(self, reason: str = "manual") -> None:
        """Nothing to restart: the attached processes are not ours."""

    def _unlink(self) -> None:
        """Remove the socket file, unless another collector has replaced it since."""
        with contextlib.suppress(OSError):
            info = os.stat(self.path)
            if (info.st_dev, info.st_ino) == self._inode:
                os.unlink(self.path)

    # -- one attached process -------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        hello: ProcessAttached | None = None
        received = 0
        reason: DetachReason = "closed"
        frames = FrameReader()
        try:
            while data := await reader.read(READ_SIZE):
                events, problems = frames.feed(data)
                if hello is None and events:
                    hello = self._attached(events, writer)
                    if hello is None:
                        reason = "bad-stream"
                        break
                    received -= 1
                received += len(events)
                events.extend(self._problems(hello, problems))
                if events:
                    self.deliver(events)
                if frames.broken:
                    reason = "bad-stream"
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            if task is not None:
                self._tasks.discard(task)
            if hello is not None:
                self._detached(hello, received, "collector-stopped" if self._stopping else reason)

    def _attached(
        self, events: list[Event], writer: asyncio.StreamWriter
    ) -> ProcessAttached | None:
        """The connection's hello, with its worker index (also sent back); None: not ours."""
        first = events[0]
        if not isinstance(first, ProcessAttached):
            return None
        index = self.workers.setdefault(first.pid, len(self.workers) + 1)
        writer.write(b"%d\n" % index)
        hello = dataclasses.replace(first, worker=index)
        events[0] = hello
        return hello

    def _detached(self, hello: ProcessAttached, received: int, reason: DetachReason) -> None:
        self.emit(
            ProcessDetached(pid=hello.pid, worker=hello.worker, reason=reason, events=received)
        )

    @staticmethod
    def _problems(hello: ProcessAttached | None, problems: list[str]) -> list[Event]:
        who = f"pid {hello.pid}" if hello is not None else "an attached process"
        return [
            CheckMessage(level="warning", message=f"{who}: {problem}", check_id="asgi-dash.collect")
            for problem in problems
        ]


__all__ = ["CollectorBusy", "CollectorRuntime", "bind_collector_socket"]
