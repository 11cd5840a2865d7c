"""Assembling one server generation, the same way in a server process and in-process.

:mod:`.child` (a spawned or forked server process) and :mod:`.inprocess` (``--in-process``) both
load the project with :mod:`.bootstrap`, then call :func:`instrument_process` once per process
and :func:`assemble` per generation; the :class:`Generation` it returns builds the one
``ServerStarted`` event either mode reports and starts the loop watchdog. What differs between
the modes (who owns the socket, the pipes, signals, how a stop arrives) stays in those modules.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from typing import Any

from ..events import Mode, ServerStarted
from ..instrument import EventSink, InstrumentedApp, identity, install, nplus1
from ..instrument import hops as hop_timeline
from ..instrument.logbridge import install_log_bridge, strip_console_handlers
from ..instrument.watchdog import LoopWatchdog
from .bootstrap import LoadedProject, wrap_static
from .server import url_for, versions


def project_paths() -> tuple[tuple[str, ...], str]:
    """Django's template directories and MEDIA_ROOT, for the parent's watcher."""
    try:
        from django.conf import settings
        from django.template.autoreload import get_template_directories

        dirs = tuple(sorted(str(d) for d in get_template_directories()))
        return dirs, str(getattr(settings, "MEDIA_ROOT", "") or "")
    except Exception:  # a broken TEMPLATES setting shows up on the first render instead
        return (), ""


def channel_layer_backend() -> str | None:
    """The default channel layer's backend (dotted class), or None without Channels/a layer."""
    try:
        from django.conf import settings

        layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
        backend = (layers.get("default") or {}).get("BACKEND")
    except Exception:  # settings that do not load are reported elsewhere
        return None
    return str(backend) if backend else None


def instrument_process(
    sink: EventSink,
    project_dir: str,
    *,
    n_plus_one: int = nplus1.DEFAULT_THRESHOLD,
    hops: bool = True,
) -> None:
    """Once per process, after ``django.setup()``: logging into ``sink``, the hooks installed.

    ``django.setup()`` configured logging: the bridge is attached again and console handlers
    are stripped (in-process, anything writing to our stdout/stderr would draw over the TUI).
    """
    install_log_bridge(sink)
    strip_console_handlers()
    install(project_dir)
    nplus1.configure(n_plus_one)
    hop_timeline.enabled = hops


@dataclass(frozen=True, slots=True)
class Generation:
    """One generation's application, instrumented, and what its ServerStarted reports."""

    loaded: LoadedProject
    generation: int
    project_dir: str
    app: InstrumentedApp
    static_prefix: str | None
    template_dirs: tuple[str, ...]
    media_root: str

    def started(
        self,
        sock: socket.socket,
        host: str,
        *,
        mode: Mode,
        settings_module: str,
        settings_source: str,
        startup_s: float,
        env_file: str,
        workers: int = 1,
    ) -> ServerStarted:
        """The event announcing that this generation (or, with ``workers`` > 1, this worker
        of it: instrument/identity.py) listens on ``sock``."""
        info = versions()
        return ServerStarted(
            url=url_for(sock, host),
            pid=os.getpid(),
            mode=mode,
            host=host,
            port=sock.getsockname()[1],
            generation=self.generation,
            settings_module=settings_module,
            settings_source=settings_source,
            asgi_app=self.loaded.asgi_app,
            asgi_app_source=self.loaded.asgi_app_source,
            python=info["python"] or "",
            django=info["django"] or "",
            uvicorn=info["uvicorn"] or "",
            channels=info["channels"],
            static=self.static_prefix is not None,
            startup_s=startup_s,
            template_dirs=self.template_dirs,
            media_root=self.media_root,
            env_file=env_file,
            worker=identity.worker_index(),
            workers=workers,
            channel_layer=channel_layer_backend(),
        )

    def start_watchdog(self, loop: asyncio.AbstractEventLoop, threshold_ms: float) -> LoopWatchdog:
        """Watch ``loop`` for blocking, naming this generation's requests in flight."""
        return LoopWatchdog(
            loop,
            self.app.sink,
            self.app.in_flight,
            project_dir=self.project_dir,
            threshold_ms=threshold_ms,
        ).start()


def assemble(
    loaded: LoadedProject,
    sink: EventSink,
    *,
    generation: int,
    project_dir: str,
    static: bool,
    prebuilt: tuple[Any, str | None] | None = None,
) -> Generation:
    """The generation's application: the project's, static files served (``static``, DEBUG),
    wrapped by the ASGI tap. ``prebuilt`` is that static-files wrapper already built (by the
    warm process before it forked)."""
    app, static_prefix = prebuilt if prebuilt is not None else wrap_static(loaded, static)
    tapped = InstrumentedApp(
        app, sink, generation=generation, static_prefix=static_prefix, project_dir=project_dir
    )
    template_dirs, media_root = project_paths()
    return Generation(
        loaded, generation, project_dir, tapped, static_prefix, template_dirs, media_root
    )


__all__ = ["Generation", "assemble", "instrument_process", "project_paths"]
