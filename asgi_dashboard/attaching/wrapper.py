"""``application = asgi_dashboard.attach(application)``: the one line a deployment adds.

:class:`AttachedApp` wraps the project's ASGI application and starts a
:class:`~.sender.SocketSink` (see "When it connects" below), whose thread looks for a collector
(``asgi-dash collect``) every second. Per call it reads one flag:

* **no collector** (:attr:`SocketSink.connected` False): the call goes straight to the
  application. Nothing is recorded, no event is built, the Django hooks are not even installed
  until a collector first appears (bench/attach.py measures what is left: one attribute read).
* **a collector listens**: the call goes through the same
  :class:`~asgi_dashboard.instrument.InstrumentedApp` tap the child server uses, with the same
  hooks (:func:`~asgi_dashboard.instrument.install`), so the collector receives the same
  ``RequestFinished``/``Ws*`` events a supervised server sends, stamped with the worker index
  the collector gave this process. Log records reach it too (:class:`AttachedLogHandler`).

Unlike the supervised child, nothing of the project's own logging changes: its console handlers
keep printing, and the root logger's level is left as configured (the child's
``install_log_bridge`` lowers it to INFO and ``strip_console_handlers`` takes over the terminal;
both are right for a dashboard's child and wrong for a deployment).

**When it connects.** :func:`attach` starts the sender at once (daphne sends no lifespan scope,
``runworker`` calls the application only when a message comes), except under gunicorn, where the
first ASGI call of each worker (Uvicorn's lifespan scope, at boot) does.

**Fork safety.** A gunicorn master with ``--preload`` imports (and so wraps) the application
before forking its workers: it does not connect (above). A fork hook (``os.register_at_fork``)
forgets any sender the parent had, so every process has its own thread and its own connection.
"""

from __future__ import annotations

import atexit
import logging
import os
import platform
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ..events import ProcessAttached
from ..instrument import InstrumentedApp, install, layer
from ..instrument.identity import set_worker
from ..instrument.logbridge import EventLogHandler
from ..instrument.previews import ASGIApp, Receive, Scope, Send
from .paths import socket_path
from .sender import SocketSink

#: Scope types the tap records; anything else (lifespan) goes straight to the application.
_TRAFFIC = frozenset(("http", "websocket"))
#: Server programs recognised in argv (``ProcessAttached.server``).
_SERVERS = ("gunicorn", "uvicorn", "daphne", "hypercorn", "granian")


class AttachedLogHandler(EventLogHandler):
    """The log bridge's root handler, silent while no collector listens (no record is built)."""

    sink: SocketSink

    def handle(self, record: logging.LogRecord) -> bool:
        if not self.sink.connected:
            return False
        return super().handle(record)


def server_kind(argv: list[str] | tuple[str, ...]) -> str:
    """What runs this process, from its command line (``ProcessAttached.server``)."""
    head = [os.path.basename(a) for a in argv[:1]]
    parts = argv[0].replace("\\", "/").split("/") if argv else []
    for name in _SERVERS:
        if any(h.startswith(name) for h in head) or name in parts:
            return name
    if "runworker" in argv[1:3]:
        return "runworker"
    return "python"


def app_name(app: Any) -> str:
    """``module.qualname`` of the application's class (or function)."""
    target = app if callable(app) and hasattr(app, "__qualname__") else type(app)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"


def _django_version() -> str:
    django = sys.modules.get("django")
    return str(django.get_version()) if django is not None else ""


class AttachedApp:
    """The project's ASGI application, reporting to ``asgi-dash collect`` when one listens."""

    def __init__(self, app: ASGIApp, path: str, *, project_dir: str | None = None) -> None:
        self.app = app
        #: The collector's socket (see :mod:`.paths`).
        self.path = path
        self.project_dir = project_dir if project_dir is not None else os.getcwd()
        #: This process's sink (None until the first ASGI call, and again in a forked child).
        self.sink: SocketSink | None = None
        self._tapped: InstrumentedApp | None = None
        self._hooked = False
        self._layer_lock = threading.Lock()
        os.register_at_fork(after_in_child=_forget_in_child(weakref.ref(self)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sink = self.sink or self.start()
        if sink.connected:
            if not self._hooked:
                # Also for a "channel" scope (``manage.py runworker``): the consumer hooks
                # report the handlers it runs (HandlerRun) through the channel-layer tap.
                self._hook()
            if scope["type"] in _TRAFFIC:
                await self._tapped(scope, receive, send)  # type: ignore[misc]
                return
        await self.app(scope, receive, send)

    def start(self) -> SocketSink:
        """This process's sink, its tap and its log handler (once per process; the first ASGI
        call starts them, a process that wants to be seen before its first call may start
        them itself)."""
        if self.sink is not None:
            return self.sink
        sink = SocketSink(self.path, self.hello, on_change=self._follow_connection)
        self._tapped = InstrumentedApp(self.app, sink, project_dir=self.project_dir)
        # The tap points the channel-layer wrappers at its sink; with no collector they must
        # pass straight through (no LayerOp/HandlerRun built): only while connected.
        self._follow_connection(sink)
        logging.getLogger().addHandler(AttachedLogHandler(sink))
        # A worker that exits (gunicorn's graceful stop, max_requests) sends what it queued in
        # its last 20 ms batch window first (bounded: SocketSink.flush gives up after 2 s).
        atexit.register(sink.close)
        self.sink = sink
        return sink

    def _follow_connection(self, sink: SocketSink) -> None:
        """Channel-layer events on while ``sink`` is connected, off otherwise (called by the
        sender's thread on each change, and once by :meth:`start`: the lock makes the last
        call read the latest state)."""
        with self._layer_lock:
            layer.set_sink(sink.emit if sink.connected else None)

    def _hook(self) -> None:
        """The Django hooks, installed when a collector first listens (on the loop thread)."""
        self._hooked = True
        try:
            install(self.project_dir)
        except Exception:  # not a Django application (or Django not set up): HTTP facts only
            logging.getLogger("asgi_dashboard").debug("Django hooks not installed", exc_info=True)

    def hello(self, reconnects: int) -> ProcessAttached:
        """Who this process is: the first event of every connection."""
        argv = tuple(sys.argv[:32])
        return ProcessAttached(
            pid=os.getpid(),
            ppid=os.getppid(),
            server=server_kind(argv),
            argv=argv,
            project_dir=self.project_dir,
            settings_module=os.environ.get("DJANGO_SETTINGS_MODULE", ""),
            app=app_name(self.app),
            python=platform.python_version(),
            django=_django_version(),
            reconnects=reconnects,
        )

    def forget(self) -> None:
        """After a fork, in the child: start afresh on the first call (a thread of its own)."""
        sink, self.sink = self.sink, None
        self._layer_lock = threading.Lock()  # the parent's threads may have held it
        if sink is not None:
            layer.set_sink(None)
            sink.forget_after_fork()
            root = logging.getLogger()
            for handler in list(root.handlers):
                if isinstance(handler, AttachedLogHandler) and handler.sink is sink:
                    root.removeHandler(handler)
        set_worker(0)


def _forget_in_child(ref: weakref.ref[AttachedApp]) -> Callable[[], None]:
    def forget() -> None:
        wrapped = ref()
        if wrapped is not None:
            wrapped.forget()

    return forget


def attach(app: ASGIApp, *, project_dir: str | None = None) -> ASGIApp:
    """``app``, reporting to ``asgi-dash collect`` whenever one listens.

    ``ASGI_DASH_COLLECT`` names the collector's socket (``off``: ``app`` is returned as is);
    see :mod:`.paths` for the default. ``project_dir`` (default: the working directory) decides
    which frames of a traceback are the project's.
    """
    if isinstance(app, AttachedApp):
        return app
    path = socket_path()
    if path is None:
        return app
    wrapped = AttachedApp(app, path, project_dir=project_dir)
    if server_kind(sys.argv) != "gunicorn":
        # Connect now: daphne sends no lifespan scope, runworker calls the application only
        # when a message comes, and the first call would otherwise go unrecorded. Not under
        # gunicorn: a master with --preload wraps the application too, and would attach as
        # a process that serves nothing (its workers start their own on their lifespan call).
        wrapped.start()
    return wrapped


__all__ = ["AttachedApp", "AttachedLogHandler", "app_name", "attach", "server_kind"]
