"""The server process's side of the control pipe, and how it stops.

The parent writes one command per line on the control pipe: ``stop`` (stop accepting, drain,
exit) and ``templates JSON``. End-of-file means the parent died: the process then exits after a
short grace rather than live on as an orphan. SIGTERM (from the parent, or from the kernel when
the parent dies: ``PR_SET_PDEATHSIG``) is handled the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import threading
from collections.abc import Callable

from .errorpage import shut_down_connections
from .server import DashServer
from .spec import TemplatesCommand
from .trace import trace

#: Seconds in-flight requests get to finish once the parent is gone, before the process exits.
PARENT_GONE_GRACE_S = 1.0


def die_with_parent() -> None:
    """Linux: get SIGTERM if the parent dies (the control pipe's EOF is the portable backup)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Control:
    """Reads commands from the parent on a thread and applies them on the loop.

    Commands, one per line: ``stop`` (stop accepting, drain, exit) and ``templates JSON`` (reset
    Django's template loaders; JSON has ``t0_ns``, the parent's ``perf_counter_ns()`` when the
    change was seen, and ``paths``).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.server: DashServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested = threading.Event()
        #: The process that started us: when getppid() differs, it is gone (we were reparented).
        self.parent = os.getppid()
        self._exit_timer: threading.Timer | None = None
        #: Called on the loop with the JSON payload of a ``templates`` command.
        self.on_templates: Callable[[TemplatesCommand], None] | None = None
        threading.Thread(target=self._run, name="asgi-dash-control", daemon=True).start()

    def _stop(self, *, parent_gone: bool) -> None:
        trace("stop-received")
        self.stop_requested.set()
        server, loop = self.server, self.loop
        if server is None or loop is None:
            trace("exit")
            os._exit(0)  # not serving yet: nothing to drain
        loop.call_soon_threadsafe(stop_now, server)
        if parent_gone:
            self.exit_soon()

    def parent_gone(self) -> bool:
        return os.getppid() != self.parent

    def exit_soon(self) -> None:
        """The parent is gone, so nobody waits for a graceful drain: in-flight requests get
        :data:`PARENT_GONE_GRACE_S` to finish, then the process ends even if a sync view's thread
        never returns (``asyncio.run`` and the interpreter's exit would join that thread)."""
        if self._exit_timer is None:
            self._exit_timer = threading.Timer(PARENT_GONE_GRACE_S, os._exit, args=(0,))
            self._exit_timer.daemon = True  # a drain that ends sooner exits sooner
            self._exit_timer.start()

    def on_sigterm(self, server: DashServer) -> None:
        """SIGTERM, from the parent (stop) or from the kernel because the parent died
        (PR_SET_PDEATHSIG): then bounded, without waiting for the control pipe's end of file."""
        stop_now(server)
        if self.parent_gone():
            self.exit_soon()

    def _command(self, line: bytes) -> None:
        verb, _, rest = line.strip().partition(b" ")
        if verb == b"stop":
            self._stop(parent_gone=False)
        elif verb == b"templates" and self.loop is not None and self.on_templates is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                self.loop.call_soon_threadsafe(self.on_templates, json.loads(rest or b"{}"))

    def _run(self) -> None:
        with os.fdopen(self.fd, "rb", buffering=0) as pipe:
            buffer = b""
            while True:
                try:
                    chunk = pipe.read(1024)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._stop(parent_gone=True)
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._command(line)


def stop_now(server: DashServer) -> None:
    """Stop accepting at once; WebSockets get 1012 "service restart", idle connections close."""
    server.stop_accepting()
    shut_down_connections(server)


__all__ = ["PARENT_GONE_GRACE_S", "Control", "die_with_parent", "stop_now"]
