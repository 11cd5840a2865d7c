"""Entry point of the supervised server process: ``python -m asgi_dashboard.runtime.child SPEC``.

``SPEC`` is a JSON object written by :mod:`.supervisor`. The process inherits three file
descriptors: the listening socket (bound once by the parent, so the port survives restarts), the
write end of the event pipe (frames of events, see :mod:`asgi_dashboard.eventpipe`), and the read
end of a control pipe. ``stop`` on the control pipe means "stop accepting, drain, exit";
end-of-file means the parent died, and the child exits rather than live on as an orphan. stdout
and stderr are plain pipes to the parent, which shows them in the console.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..events import ReloadFinished, ServerFailed, ServerStarted
from ..instrument import InstrumentedApp, PipeSink, install
from ..instrument.errors import exception_info
from ..instrument.logbridge import install_log_bridge, strip_console_handlers
from ..instrument.watchdog import LoopWatchdog
from .bootstrap import (
    LoadedProject,
    ProjectLoadError,
    load_application,
    startup_checks,
    wrap_static,
)
from .errorpage import make_error_app, shut_down_connections
from .server import DashServer, make_server, serve, url_for, versions
from .trace import enabled as trace_enabled
from .trace import trace

#: Seconds in-flight requests get to finish once the parent is gone, before the process exits.
PARENT_GONE_GRACE_S = 1.0


def _die_with_parent() -> None:
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
        self.on_templates: Callable[[dict[str, Any]], None] | None = None
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


def preload_urlconf(project_dir: str) -> None:
    """Import ROOT_URLCONF (and so the views) before serving, as runserver's checks do.

    Django resolves the URLconf lazily on the first request (``URLResolver.url_patterns``); doing
    it now makes the first response fast and turns a broken view module into ServerFailed with
    file and line, instead of a 500 on every request.
    """
    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # noqa: B018 - the property imports the module
    except BaseException as exc:
        info = exception_info(exc, project_dir)
        text, where = str(exc), ""
        if isinstance(exc, SyntaxError) and exc.filename:
            # str(SyntaxError) already ends with "(file, line n)": say it once.
            text = exc.msg
            where = f" ({os.path.basename(exc.filename)}, line {exc.lineno})"
        elif info.frame is not None:
            where = f" ({os.path.basename(info.frame.filename)}, line {info.frame.lineno})"
        raise ProjectLoadError(
            "import", f"Importing the URLconf raised {type(exc).__name__}: {text}{where}.", info
        ) from None


def project_paths() -> tuple[tuple[str, ...], str]:
    """Django's template directories and MEDIA_ROOT, for the parent's watcher."""
    try:
        from django.conf import settings
        from django.template.autoreload import get_template_directories

        dirs = tuple(sorted(str(d) for d in get_template_directories()))
        return dirs, str(getattr(settings, "MEDIA_ROOT", "") or "")
    except Exception:  # a broken TEMPLATES setting shows up on the first render instead
        return (), ""


def reset_templates(sink: PipeSink, generation: int, payload: dict[str, Any]) -> None:
    """Reset the template loaders' caches (what runserver's autoreloader does on a change)."""
    from django.template.autoreload import reset_loaders

    ok, error = True, None
    try:
        reset_loaders()
    except Exception as exc:
        ok, error = False, exception_info(exc)
    t0 = int(payload.get("t0_ns") or time.perf_counter_ns())
    sink.emit(
        ReloadFinished(
            generation=generation,
            path="templates",
            # perf_counter_ns is CLOCK_MONOTONIC on Linux: comparable across processes.
            duration_ns=max(0, time.perf_counter_ns() - t0),
            ok=ok,
            paths=tuple(payload.get("paths") or ()),
            error=error,
        )
    )


def traced_first_request(app: Any) -> Any:
    """``app``, or with ``ASGI_DASH_TRACE`` set, ``app`` that also traces its first HTTP request
    ("first-request" when it arrives, "first-response" when its response starts)."""
    if not trace_enabled():
        return app
    seen = False

    async def traced(scope: Any, receive: Any, send: Any) -> None:
        nonlocal seen
        if seen or scope.get("type") != "http":
            return await app(scope, receive, send)
        seen = True
        trace("first-request")

        async def send_traced(message: Any) -> None:
            if message.get("type") == "http.response.start":
                trace("first-response")
            await send(message)

        return await app(scope, receive, send_traced)

    # InstrumentedApp's attributes (in_flight, ...) stay reachable where they are read.
    return traced


async def run_checks_later(
    sink: PipeSink, started: asyncio.Event, delay_s: float, control: Control
) -> None:
    """Run Django's system checks ``delay_s`` after the server listens, unless stopped first.

    After the server listens, so the checks never delay the first response, and a moment later
    (0.3 s after the first start, 1 s after a reload: spec "checks_delay_s", see
    launch.child_spec) so the first requests, often the one the user is waiting for, do not
    share the GIL with them. They run on a daemon thread, not ``asyncio.to_thread``: a stop
    cancels this task, and ``asyncio.run`` would otherwise wait for the executor's thread to
    finish the checks before the process could exit.
    """
    await started.wait()
    await asyncio.sleep(delay_s)
    if control.stop_requested.is_set():
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[list[Any]] = loop.create_future()

    def deliver(result: list[Any] | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result or [])

    def work() -> None:
        result, error = None, None
        try:
            result = startup_checks()
        except BaseException as exc:  # delivered to the loop, as to_thread would
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are exiting
            loop.call_soon_threadsafe(deliver, result, error)

    threading.Thread(target=work, name="asgi-dash-checks", daemon=True).start()
    for event in await done:
        sink.emit(event)


def serve_error_page(
    control: Control,
    sock: socket.socket,
    exc: ProjectLoadError,
    graceful_timeout: float,
    *,
    sink: PipeSink | None = None,
    generation: int = 0,
) -> None:
    """Answer every request with the error page until the parent says stop.

    With a ``sink``, each request it answers is reported like any other (RequestFinished).
    """
    show_tb = True  # DEBUG unknown (settings did not load): a dev server on loopback
    with contextlib.suppress(Exception):
        from django.conf import settings

        if settings.configured:
            show_tb = bool(settings.DEBUG)
    app = make_error_app(exc.message, exc.error, show_tb)
    if sink is not None:
        app = InstrumentedApp(app, sink, generation=generation)

    async def main() -> None:
        server = make_server(app, graceful_timeout=graceful_timeout)
        control.loop, control.server = asyncio.get_running_loop(), server
        if control.stop_requested.is_set():
            return
        await serve(server, sock)

    with contextlib.suppress(Exception):
        asyncio.run(main())


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the warm process built before forking: reused as is by the fork.

    ``loaded`` (``django.setup()`` has run, the ASGI application is imported) and ``static``, the
    application wrapped by Django's ``ASGIStaticFilesHandler`` (None when static files are not
    served). Building that wrapper runs ``load_middleware()`` again (``ASGIHandler.__init__``):
    15-35 ms per fork measured, the largest step after the fork itself. The warm process is
    rebuilt when a module it imported changes (settings, middleware, the ASGI module), so
    these objects always match the code.
    """

    loaded: LoadedProject
    static: tuple[Any, str | None] | None


def run(spec: dict[str, Any], prepared: Prepared | None = None) -> int:
    """Serve one generation; returns the exit code (the caller exits with it)."""
    trace("child-run")
    try:
        return _run(spec, prepared)
    finally:
        trace("exit")


def _run(spec: dict[str, Any], prepared: Prepared | None) -> int:
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

    sock = socket.socket(fileno=spec["sock_fd"])
    sock.setblocking(False)  # shared O_NONBLOCK: see runtime/sockets.py bind_socket
    host = spec["host"]
    graceful_timeout = float(spec.get("graceful_timeout", 1.0))

    def failed(exc: ProjectLoadError) -> int:
        failure = ServerFailed(
            message=exc.message, phase=exc.phase, generation=generation, error=exc.error
        )
        sink.emit(failure)
        if spec.get("serve_errors"):
            # Reloading is on: stay up with an error page until the next reload replaces us.
            serve_error_page(control, sock, exc, graceful_timeout, sink=sink, generation=generation)
        sink.close()
        return 3

    try:
        if prepared is not None:
            loaded = prepared.loaded  # set up by the warm process before it forked us
        else:
            loaded = load_application(project_dir, spec["settings_module"], spec.get("app"))
        trace("django-loaded")
        preload_urlconf(project_dir)
        trace("urlconf-imported")
    except ProjectLoadError as exc:
        return failed(exc)
    template_dirs, media_root = project_paths()
    control.on_templates = lambda payload: reset_templates(sink, generation, payload)
    # django.setup() configured logging: re-attach the bridge, strip console handlers.
    install_log_bridge(sink)
    strip_console_handlers()
    install(project_dir)
    serve_static = bool(spec.get("static", True))
    if prepared is not None and serve_static and prepared.static is not None:
        app, static_prefix = prepared.static
    else:
        app, static_prefix = wrap_static(loaded, serve_static)
    tapped = InstrumentedApp(
        app, sink, generation=generation, static_prefix=static_prefix, project_dir=project_dir
    )
    trace("app-ready")

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
                template_dirs=template_dirs,
                media_root=media_root,
                env_file=str(spec.get("env_file") or ""),
            )
        )

    async def main() -> None:
        trace("loop-running")
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def on_started() -> None:
            trace("listening")
            announce()
            started.set()

        server = make_server(
            traced_first_request(tapped), graceful_timeout=graceful_timeout, on_started=on_started
        )
        trace("server-made")
        control.loop, control.server = loop, server
        loop.add_signal_handler(signal.SIGTERM, control.on_sigterm, server)
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
        checks = None
        if spec.get("checks", True):
            checks = asyncio.create_task(
                run_checks_later(sink, started, float(spec.get("checks_delay_s", 0.0)), control)
            )
        await task
        if checks is not None:
            # A stop skips the checks (or leaves them to their daemon thread): a generation
            # stopped right after it started must not first wait out the delay and the checks.
            checks.cancel()
        watchdog.stop()

    try:
        asyncio.run(main())
    except Exception as exc:  # the server loop itself crashed
        return failed(ProjectLoadError("runtime", f"The server stopped with {exc!r}."))
    sink.close()
    return 0


def main() -> None:
    spec = json.loads(sys.argv[1])
    code = run(spec)
    # Leave without the interpreter's teardown (tens of ms with Django loaded, plus a wait for
    # a checks thread still running): everything this process owes anyone (events, console
    # output) has been written; the parent learns it exited from the exit itself.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
