"""Entry point of the supervised server process: ``python -m asgi_dashboard.runtime.child SPEC``.

``SPEC`` is a :class:`.spec.ServerSpec` as JSON (built by :mod:`.launch`). The process inherits
three file descriptors: the listening socket (bound once by the parent, so the port survives
restarts), the write end of the event pipe (frames of events, see :mod:`asgi_dashboard.eventpipe`),
and the read end of a control pipe (:mod:`.control`). stdout and stderr are plain pipes to the
parent, which shows them in the console. The generation itself is assembled by :mod:`.serving`,
as ``--in-process`` assembles its own.

This module never imports Textual: restarts stay fast and the server cannot depend on the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..events import ReloadFinished, ServerFailed
from ..instrument import InstrumentedApp, PipeSink, identity
from ..instrument.errors import exception_info
from ..instrument.logbridge import install_log_bridge
from . import accepting
from .bootstrap import LoadedProject, ProjectLoadError, load_application, startup_checks
from .control import Control, die_with_parent
from .errorpage import make_error_app
from .server import make_server, serve
from .serving import Generation, assemble, instrument_process
from .spec import ServerSpec, TemplatesCommand
from .trace import enabled as trace_enabled
from .trace import trace


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


def reset_templates(sink: PipeSink, generation: int, payload: TemplatesCommand) -> None:
    """Reset the template loaders' caches (what runserver's autoreloader does on a change)."""
    from django.template.autoreload import reset_loaders

    ok, error = True, None
    try:
        reset_loaders()
    except Exception as exc:
        ok, error = False, exception_info(exc)
    if ok and payload.get("quiet"):
        return
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
            await app(scope, receive, send)
            return
        seen = True
        trace("first-request")

        async def send_traced(message: Any) -> None:
            if message.get("type") == "http.response.start":
                trace("first-response")
            await send(message)

        await app(scope, receive, send_traced)

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


def run(spec: ServerSpec, prepared: Prepared | None = None) -> int:
    """Serve one generation; returns the exit code (the caller exits with it)."""
    trace("child-run")
    try:
        return _run(spec, prepared)
    finally:
        trace("exit")


def _run(spec: ServerSpec, prepared: Prepared | None) -> int:
    if spec.worker:
        identity.set_worker(spec.worker)  # before any event: every event carries it
    sink = PipeSink(spec.event_fd)
    control = Control(spec.control_fd)
    die_with_parent()
    # SIGTERM (from the parent or PR_SET_PDEATHSIG) means stop; SIGINT belongs to the parent,
    # which runs the terminal (the child is in its own session anyway).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install_log_bridge(sink)

    sock = socket.socket(fileno=spec.sock_fd)
    sock.setblocking(False)  # shared O_NONBLOCK: see runtime/sockets.py bind_socket
    try:
        if prepared is not None:
            loaded = prepared.loaded  # set up by the warm process before it forked us
        else:
            loaded = load_application(spec.project_dir, spec.settings_module, spec.app)
        trace("django-loaded")
        preload_urlconf(spec.project_dir)
        trace("urlconf-imported")
    except ProjectLoadError as exc:
        return _failed(spec, sink, control, sock, exc)
    control.on_templates = lambda payload: reset_templates(sink, spec.generation, payload)
    instrument_process(sink, spec.project_dir, n_plus_one=spec.n_plus_one, hops=spec.hops)
    gen = assemble(
        loaded,
        sink,
        generation=spec.generation,
        project_dir=spec.project_dir,
        static=spec.static,
        prebuilt=prepared.static if prepared is not None and spec.static else None,
    )
    trace("app-ready")
    try:
        # Several workers on one socket: each accepts one connection per wake-up (accepting.py).
        accepting.run(_serve(spec, gen, sink, sock, control), one_accept=spec.workers > 1)
    except Exception as exc:  # the server loop itself crashed
        failure = ProjectLoadError("runtime", f"The server stopped with {exc!r}.")
        return _failed(spec, sink, control, sock, failure)
    sink.close()
    return 0


def _failed(
    spec: ServerSpec, sink: PipeSink, control: Control, sock: socket.socket, exc: ProjectLoadError
) -> int:
    """Report a failure; with reloading on, serve the error page until told to stop."""
    sink.emit(
        ServerFailed(
            message=exc.message, phase=exc.phase, generation=spec.generation, error=exc.error
        )
    )
    if spec.serve_errors:
        # Reloading is on: stay up with an error page until the next reload replaces us.
        serve_error_page(
            control, sock, exc, spec.graceful_timeout, sink=sink, generation=spec.generation
        )
    sink.close()
    return 3


async def _serve(
    spec: ServerSpec, gen: Generation, sink: PipeSink, sock: socket.socket, control: Control
) -> None:
    """Serve ``gen`` on ``sock`` until stopped; announce it, watch the loop, run the checks."""
    trace("loop-running")
    loop = asyncio.get_running_loop()
    started = asyncio.Event()

    def on_started() -> None:
        trace("listening")
        sink.emit(
            gen.started(
                sock,
                spec.host,
                mode="child",
                settings_module=spec.settings_module,
                settings_source=spec.settings_source,
                startup_s=time.time() - spec.spawned_at,
                env_file=spec.env_file,
                workers=spec.workers,
            )
        )
        started.set()

    server = make_server(
        traced_first_request(gen.app),
        graceful_timeout=spec.graceful_timeout,
        on_started=on_started,
    )
    trace("server-made")
    control.loop, control.server = loop, server
    loop.add_signal_handler(signal.SIGTERM, control.on_sigterm, server)
    if control.stop_requested.is_set():
        return
    task = asyncio.create_task(serve(server, sock))
    watchdog = gen.start_watchdog(loop, spec.block_threshold_ms)
    checks = None
    if spec.checks:
        checks = asyncio.create_task(run_checks_later(sink, started, spec.checks_delay_s, control))
    await task
    if checks is not None:
        # A stop skips the checks (or leaves them to their daemon thread): a generation
        # stopped right after it started must not first wait out the delay and the checks.
        checks.cancel()
    watchdog.stop()


def main() -> None:
    code = run(ServerSpec.from_json(sys.argv[1]))
    # Leave without the interpreter's teardown (tens of ms with Django loaded, plus a wait for
    # a checks thread still running): everything this process owes anyone (events, console
    # output) has been written; the parent learns it exited from the exit itself.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
