"""``--in-process``: the same server and instrumentation inside this process's event loop.

For ``--no-reload`` use and fast tests. Django is imported into the dashboard's own process, so a
restart serves the same code (Python cannot unload modules); a view that blocks the loop blocks
the dashboard too, which is why the child process is the default.

With reloading on, template edits still take effect (the loaders are reset in this process, as
runserver does); a Python change is reported but cannot be applied without a child process, and a
project that failed to load is answered with the error page rather than a refused connection.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from ..envfile import apply_env_files, describe
from ..events import (
    LogRecord,
    ReloadFinished,
    ServerFailed,
    ServerStarting,
    ServerStopped,
)
from ..instrument import CallbackSink, InstrumentedApp
from ..instrument.logbridge import install_log_bridge
from ..instrument.watchdog import LoopWatchdog
from .base import Runtime
from .bootstrap import LoadedProject, ProjectLoadError, load_application, startup_checks
from .errorpage import make_error_app, shut_down_connections
from .reloader import Decision
from .server import BindError, DashServer, bind_socket, make_server, serve, url_for
from .serving import assemble, instrument_process


class InProcessRuntime(Runtime):
    sock: socket.socket | None = None
    loaded: LoadedProject | None = None
    server: DashServer | None = None
    task: asyncio.Task[None] | None = None
    watchdog: LoopWatchdog | None = None
    checks_task: asyncio.Task[None] | None = None
    #: The .env file(s) loaded into this process before the settings (ServerStarted.env_file).
    env_file: str = ""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.sink = CallbackSink(loop, self.on_events)
        try:
            self.sock = bind_socket(self.config.host, self.config.port)
        except BindError as exc:
            self.state = "failed"
            self.emit(ServerFailed(message=str(exc), phase="bind"))
            return
        self.url = url_for(self.sock, self.config.host)
        self.pid = os.getpid()
        self.start_watching()
        await self._start_generation()

    async def apply_reload(self, decision: Decision) -> None:
        if decision.action == "templates" and self.loaded is not None:
            from django.template.autoreload import reset_loaders

            reset_loaders()
            self.emit(
                ReloadFinished(
                    generation=self.generation,
                    path="templates",
                    duration_ns=time.perf_counter_ns() - decision.detected_ns,
                    paths=decision.paths,
                )
            )
            return
        self.emit(
            LogRecord(
                logger="asgi_dash",
                level="WARNING",
                message="Python code changed, but --in-process cannot load new code into the "
                "running dashboard: restart asgi-dash, or run it without --in-process.",
            )
        )

    async def _start_generation(self) -> None:
        assert self.sock is not None
        self.generation += 1
        self.state = "starting" if self.generation == 1 else "restarting"
        began = time.perf_counter()
        c = self.config
        self.emit(
            ServerStarting(
                mode="in-process",
                generation=self.generation,
                project_dir=str(c.project_dir),
                settings_module=c.settings_module,
                settings_source=c.settings_source,
            )
        )
        first = self.loaded is None
        if self.loaded is None:
            self.loaded = await self._load_project()
            if self.loaded is None:
                return
        sock = self.sock
        gen = assemble(
            self.loaded,
            self.sink,
            generation=self.generation,
            project_dir=str(c.project_dir),
            static=c.static,
        )

        def announce() -> None:
            self.state = "running"
            self.emit(
                gen.started(
                    sock,
                    c.host,
                    mode="in-process",
                    settings_module=c.settings_module,
                    settings_source=c.settings_source,
                    startup_s=time.perf_counter() - began,
                    env_file=self.env_file,
                )
            )
            loop = asyncio.get_running_loop()
            self.watchdog = gen.start_watchdog(loop, c.block_threshold_ms)
            if first:
                self.checks_task = loop.create_task(self._report_checks())

        self.server = make_server(gen.app, graceful_timeout=c.graceful_timeout, on_started=announce)
        self.task = asyncio.create_task(self._serve(self.server, sock, self.generation))

    async def _load_project(self) -> LoadedProject | None:
        """Load the project into this process, once; None if it failed (then reported, and
        with reloading on, answered with the error page)."""
        assert self.sock is not None
        c = self.config
        install_log_bridge(self.sink)
        # The project's .env, as manage.py loads it (variables already set win): envfile/.
        self.env_file = describe(apply_env_files(c.env_files))
        try:
            # Imports and django.setup() off the loop, so the UI keeps drawing meanwhile.
            loaded = await asyncio.to_thread(
                load_application, str(c.project_dir), c.settings_module, c.app
            )
        except ProjectLoadError as exc:
            self.state = "failed"
            self.emit(
                ServerFailed(
                    message=exc.message,
                    phase=exc.phase,
                    generation=self.generation,
                    error=exc.error,
                )
            )
            if c.reload:
                # A readable 500 page instead of a refused connection.
                app = make_error_app(exc.message, exc.error, show_traceback=True)
                # Requests it answers are logged like any other (RequestFinished).
                app = InstrumentedApp(app, self.sink, generation=self.generation)
                self.server = make_server(app, graceful_timeout=c.graceful_timeout)
                self.task = asyncio.create_task(serve(self.server, self.sock))
            return None
        instrument_process(self.sink, str(c.project_dir), n_plus_one=c.n_plus_one, hops=c.hops)
        return loaded

    async def _serve(self, server: DashServer, sock: socket.socket, generation: int) -> None:
        try:
            await serve(server, sock)
        except Exception as exc:
            self.state = "crashed"
            self.emit(
                ServerFailed(
                    message=f"The server stopped: {exc}", phase="runtime", generation=generation
                )
            )
        self.emit(ServerStopped(pid=os.getpid(), generation=generation, exit_code=0))

    async def _report_checks(self) -> None:
        for event in await asyncio.to_thread(startup_checks):
            self.emit(event)

    async def _stop_server(self) -> None:
        server, task = self.server, self.task
        if server is None or task is None:
            return
        server.stop_accepting()
        shut_down_connections(server)
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        try:
            await asyncio.wait_for(asyncio.shield(task), self.config.graceful_timeout + 2.0)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.server = self.task = None

    async def restart(self, reason: str = "manual") -> None:
        if self.sock is None or self.loaded is None:
            return
        await self._stop_server()
        await self._start_generation()

    async def stop(self) -> None:
        await self.stop_watching()
        await self._stop_server()
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.state = "stopped"
