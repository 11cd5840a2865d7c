"""The attached process's end of the collector socket: :class:`SocketSink`.

It is :class:`~asgi_dashboard.instrument.sink.PipeSink` (the child server's sink: producers
append to a bounded deque, one writer thread packs batches into
:mod:`~asgi_dashboard.eventpipe` frames) writing to a Unix socket instead of a pipe, with what a
collector that comes and goes needs:

* **Connecting** happens on the writer thread, never on the request path: a cheap
  ``os.path.exists`` then a connect every ``retry_s`` (1 s) while no collector listens. A
  listener of another user (``SO_PEERCRED``) is not sent anything.
* **The hello.** The first frame of a connection is a
  :class:`~asgi_dashboard.events.ProcessAttached` (plus an ``EventsDropped`` for what was lost
  since the last connection); the collector answers with one line, this process's worker index,
  which :func:`~asgi_dashboard.instrument.identity.set_worker` records before :attr:`connected`
  turns True, so every event recorded over the connection carries it.
* **:attr:`connected`** is the fast-path flag: the wrapper (:mod:`.wrapper`) records traffic
  only while it is True, so without a collector no event is even built.
* **The collector going away** (EOF seen while idle, or EPIPE/ECONNRESET on a write, or a
  collector that stopped reading for ``send_timeout_s``): the connection is dropped, events
  still queued or in the frame that failed are counted as lost, and the next connection reports
  them (``EventsDropped``). The request path never waits for any of it.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable

from ..eventpipe import frame
from ..events import Event, EventsDropped, ProcessAttached
from ..instrument.identity import set_worker
from ..instrument.sink import PipeSink

#: ``struct ucred``: pid, uid, gid.
_CREDS = struct.Struct("3i")
#: What the collector answers a hello with: the worker index, then a newline (bounded read).
MAX_REPLY = 32


class SocketSink(PipeSink):
    """Batched, non-blocking sender of event frames to the collector's Unix socket."""

    def __init__(
        self,
        path: str,
        hello: Callable[[int], ProcessAttached],
        *,
        on_change: Callable[[SocketSink], None] | None = None,
        retry_s: float = 1.0,
        idle_check_s: float = 0.5,
        send_timeout_s: float = 5.0,
        max_pending: int = 100_000,
    ) -> None:
        self.path = path
        #: Builds the hello of a connection, given how many connections came before it.
        self.hello = hello
        #: Called on the writer thread once :attr:`connected` changed (either way).
        self.on_change = on_change
        self.retry_s = retry_s
        self.idle_check_s = idle_check_s
        self.send_timeout_s = send_timeout_s
        #: True while a collector listens and gave this process its worker index.
        self.connected = False
        #: The worker index the current (or last) collector gave.
        self.worker = 0
        #: Connections made so far.
        self.connections = 0
        #: Events lost while no collector listened (the writer thread's tally), reported on
        #: the next connection.
        self.lost = 0
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        super().__init__(-1, max_pending=max_pending)  # starts the writer thread (_run)

    # -- the writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            sock = self._connect()
            if sock is None:
                self._discard()
                self._stopping.wait(self.retry_s)
                continue
            # OSError: the collector went away mid-write (the lost frame is counted in _write).
            with contextlib.suppress(OSError):
                self._pump(sock)
            self._disconnect(sock)

    def _connect(self) -> socket.socket | None:
        """A connection that said hello and got its worker index, or None (no collector)."""
        if not os.path.exists(self.path):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.send_timeout_s)
            sock.connect(self.path)
            if peer_uid(sock) not in (None, os.getuid()):
                raise PermissionError("the socket's listener runs as another user")
            # Events recorded for a collector that left (requests that started before its
            # going was noticed) are counted, not sent to this one.
            self._discard()
            first: list[Event] = [self.hello(self.connections)]
            if self.lost:
                first.append(EventsDropped(count=self.lost))
            sock.sendall(frame(first), socket.MSG_NOSIGNAL)
            index = int(_read_line(sock))
        except (OSError, ValueError):
            sock.close()
            return None
        self.lost = 0
        self.connections += 1
        self.worker = index
        set_worker(index, os.getpid())
        self._sock = sock
        self.connected = True
        if self.on_change is not None:
            self.on_change(self)
        return sock

    def _pump(self, sock: socket.socket) -> None:
        """Send batches while connected; between them, notice a collector that left."""
        while not self._closed:
            if self._wake.wait(self.idle_check_s):
                if self.batch_window and not self._closed:
                    time.sleep(self.batch_window)  # let a batch gather (PipeSink._run)
                self._wake.clear()
                self._drain()
            elif _hung_up(sock):
                return

    def _write(self, data: bytes, count: int) -> None:
        sock = self._sock
        try:
            if sock is None:
                raise BrokenPipeError("not connected")
            sock.sendall(data, socket.MSG_NOSIGNAL)
        except OSError:
            self.lost += count
            raise

    def _disconnect(self, sock: socket.socket) -> None:
        self.connected = False
        if self.on_change is not None:
            self.on_change(self)
        self._sock = None
        self._busy = False
        sock.close()

    def _discard(self) -> None:
        """Events queued with no collector to take them: counted, then thrown away."""
        queue = self._queue
        for _ in range(len(queue)):
            queue.popleft()
            self.lost += 1

    # -- the producers' side ----------------------------------------------------------------------

    def close(self) -> None:
        if self.connected:
            self.flush()
        self._closed = True
        self._stopping.set()
        self._wake.set()

    def forget_after_fork(self) -> None:
        """In a forked child: this sink's thread did not survive the fork; close the copy of
        the parent's connection (the parent keeps its own) and let the child start afresh."""
        self._closed = True
        self.connected = False
        sock, self._sock = self._sock, None
        if sock is not None:
            # close(2) on this process's copy of the fd: no shutdown, the parent's stays open.
            sock.close()


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process on the other end (Linux ``SO_PEERCRED``; None elsewhere).

    The traffic goes only to a collector of the same user: with the default socket under
    ``/tmp`` (no ``XDG_RUNTIME_DIR``), another user could otherwise have created it first.
    """
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, _CREDS.size)
    _pid, uid, _gid = _CREDS.unpack(creds)
    return int(uid)


def _read_line(sock: socket.socket) -> bytes:
    """The collector's one-line reply (bounded: a stream that is not a collector fails)."""
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = sock.recv(MAX_REPLY - len(reply))
        if not chunk or len(reply) + len(chunk) >= MAX_REPLY:
            raise ValueError("no reply from the collector")
        reply += chunk
    return reply.strip()


def _hung_up(sock: socket.socket) -> bool:
    """The collector closed its end (EOF); anything else it sends is ignored."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable) and not sock.recv(4096)


__all__ = ["SocketSink"]
