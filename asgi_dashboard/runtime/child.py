"""Entry point of the supervised server process: ``python -m asgi_dashboard.runtime.child SPEC``.

``SPEC`` is a JSON object written by :mod:`.supervisor`. The process inherits three file
descriptors: the listening socket (bound once by the parent, so the port survives restarts), the
write end of the event pipe (JSON lines, see :mod:`asgi_dashboard.events`), and the read end of a
control pipe. ``stop`` on the control pipe means "stop accepting, drain, exit"; end-of-file means
the parent died, and the child exits rather than live on as an orphan. stdout and stderr are
plain pipes to the parent, which shows them in the console.

This module never imports Textual: restarts stay fast and the server cannot depend on the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from ..events import ServerFailed, ServerStarted
from ..instrument import InstrumentedApp, PipeSink, install
from ..instrument.logbridge import install_log_bridge, strip_console_handlers
from ..instrument.watchdog import LoopWatchdog
from .bootstrap import ProjectLoadError, load_application, startup_checks, wrap_static
from .server import DashServer, make_server, serve, url_for, versions


def _die_with_parent() -> None:
    """Linux: get SIGTERM if the parent dies (the control pipe's EOF is the portable backup)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class Control:
    """Reads commands from the parent on a thread and applies them on the loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.server: DashServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_requested = threading.Event()
        threading.Thread(target=self._run, name="asgi-dash-control", daemon=True).start()

    def _stop(self, *, parent_gone: bool) -> None:
        self.stop_requested.set()
        server, loop = self.server, self.loop
        if server is None or loop is None:
            os._exit(0)  # not serving yet: nothing to drain
        loop.call_soon_threadsafe(server.stop_accepting)
        if parent_gone:
            # Nobody is waiting for a graceful drain: don't outlive the parent for long.
            threading.Timer(1.0, os._exit, args=(0,)).start()

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
                    if line.strip() == b"stop":
                        self._stop(parent_gone=False)


def run(spec: dict[str, Any]) -> int:
    spawned_at = float(spec.get("spawned_at", time.time()))
    generation = int(spec.get("generation", 1))
    project_dir = spec["project_dir"]
    sink = PipeSink(spec["event_fd"])
    control = Control(spec["control_fd"])
    _die_with_parent()
    # SIGTERM (from the parent or PR_SET_PDEATHSIG) means stop; SIGINT belongs to the parent,
    # which runs the terminal (the child is in its own session anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_log_bridge(sink)

    def failed(exc: ProjectLoadError) -> int:
        failure = ServerFailed(
            message=exc.message, phase=exc.phase, generation=generation, error=exc.error
        )
        sink.emit(failure)
        sink.close()
        return 3

    try:
        loaded = load_application(project_dir, spec["settings_module"], spec.get("app"))
    except ProjectLoadError as exc:
        return failed(exc)
    # django.setup() configured logging: re-attach the bridge, strip console handlers.
    install_log_bridge(sink)
    strip_console_handlers()
    install(project_dir)
    app, static_prefix = wrap_static(loaded, bool(spec.get("static", True)))
    tapped = InstrumentedApp(
        app, sink, generation=generation, static_prefix=static_prefix, project_dir=project_dir
    )
    sock = socket.socket(fileno=spec["sock_fd"])
    host = spec["host"]

    def announce() -> None:
        info = versions()
        sink.emit(
            ServerStarted(
                url=url_for(sock, host),
                pid=os.getpid(),
                mode="child",
                host=host,
                port=sock.getsockname()[1],
                generation=generation,
                settings_module=spec["settings_module"],
                settings_source=spec.get("settings_source", ""),
                asgi_app=loaded.asgi_app,
                asgi_app_source=loaded.asgi_app_source,
                python=info["python"] or "",
                django=info["django"] or "",
                uvicorn=info["uvicorn"] or "",
                channels=info["channels"],
                static=static_prefix is not None,
                startup_s=time.time() - spawned_at,
            )
        )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def on_started() -> None:
            announce()
            started.set()

        server = make_server(
            tapped, graceful_timeout=float(spec.get("graceful_timeout", 1.0)), on_started=on_started
        )
        control.loop, control.server = loop, server
        loop.add_signal_handler(signal.SIGTERM, server.stop_accepting)
        if control.stop_requested.is_set():
            return
        task = asyncio.create_task(serve(server, sock))
        watchdog = LoopWatchdog(
            loop,
            sink,
            tapped.in_flight,
            project_dir=project_dir,
            threshold_ms=float(spec.get("block_threshold_ms", 100.0)),
        ).start()
        if spec.get("checks", True):
            # After the server listens: checks must not delay the first response.
            waiter = asyncio.create_task(started.wait())
            await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if started.is_set():
                for event in await asyncio.to_thread(startup_checks):
                    sink.emit(event)
        await task
        watchdog.stop()

    try:
        asyncio.run(main())
    except Exception as exc:  # the server loop itself crashed
        return failed(ProjectLoadError("runtime", f"The server stopped with {exc!r}."))
    sink.close()
    return 0


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.exit(run(spec))


if __name__ == "__main__":
    main()
