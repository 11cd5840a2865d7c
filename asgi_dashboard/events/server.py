"""Events of the server's life: start, stop, failure, checks, console output, reloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .base import Event, ExceptionInfo, FailurePhase, Mode, ReloadAction, ReloadVia, StopReason

# -- server lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ServerStarting(Event):
    """The runtime is about to start a server (first start or restart)."""

    name: ClassVar[str] = "server-starting"
    mode: Mode
    generation: int = 0
    project_dir: str = ""
    settings_module: str = ""
    #: Where the settings module came from: "--settings", "DJANGO_SETTINGS_MODULE", "manage.py".
    settings_source: str = ""


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ServerStarted(Event):
    """The server is accepting connections."""

    name: ClassVar[str] = "server-started"
    url: str
    pid: int
    mode: Mode
    host: str
    port: int
    generation: int = 0
    settings_module: str = ""
    settings_source: str = ""
    asgi_app: str = ""
    #: Where the ASGI app came from: "--app", "ASGI_APPLICATION", "project asgi.py", "django".
    asgi_app_source: str = ""
    python: str = ""
    django: str = ""
    uvicorn: str = ""
    channels: str | None = None
    static: bool = False
    #: Seconds from process start to accepting connections (child mode) or from start() call.
    startup_s: float = 0.0
    #: Django's template directories (``django.template.autoreload.get_template_directories``):
    #: a change inside one resets the template loaders instead of restarting.
    template_dirs: tuple[str, ...] = ()
    #: ``settings.MEDIA_ROOT`` if set: never watched for reloads.
    media_root: str = ""
    #: The ``.env`` file(s) loaded into the server's environment before the settings
    #: (comma-separated paths; "" for none): see :mod:`asgi_dashboard.envfile`.
    env_file: str = ""
    #: With ``--workers N``: this process's worker index (1..N) and N; 0 and 1 for a single
    #: server process (see instrument/identity.py).
    worker: int = 0
    workers: int = 1
    #: ``settings.CHANNEL_LAYERS["default"]["BACKEND"]`` (dotted class) when Channels is
    #: installed and a layer is configured, else None: the dashboard warns when several
    #: workers share an in-memory layer (group messages do not cross processes).
    channel_layer: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ServerStopped(Event):
    """A server process (or the in-process server) stopped."""

    name: ClassVar[str] = "server-stopped"
    pid: int
    generation: int = 0
    #: The worker index of the process that stopped (0 for a single server process).
    worker: int = 0
    exit_code: int | None = None
    #: Signal name if the process was killed by a signal (e.g. "SIGKILL").
    signal: str | None = None
    #: "requested" (stop or restart asked for it), "crashed" (it went away on its own) or
    #: "failed" (it reported ServerFailed: the project could not be loaded).
    reason: StopReason = "requested"
    #: After a crash: the supervisor restarts the server by itself in this many seconds (None:
    #: no automatic restart, e.g. a crash loop, a requested stop, or a runtime without one).
    restart_in_s: float | None = None
    #: After a crash: the server died again right after starting several times in a row, so no
    #: more automatic restarts until a file is saved or a restart is asked for (``r``).
    crash_loop: bool = False
    #: After a crash: the last lines the process wrote to stderr (oldest first), if any.
    stderr_tail: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ServerFailed(Event):
    """The project could not be started; ``message`` is one sentence that says what to do."""

    name: ClassVar[str] = "server-failed"
    message: str
    phase: FailurePhase
    generation: int = 0
    error: ExceptionInfo | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class CheckMessage(Event):
    """A Django system-check message or a start-up warning (e.g. unapplied migrations)."""

    name: ClassVar[str] = "check"
    level: Literal["debug", "info", "warning", "error", "critical"]
    message: str
    check_id: str = ""
    hint: str | None = None
    obj: str | None = None


# -- console -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class LogRecord(Event):
    """A ``logging`` record emitted in the server process (project, Django or Uvicorn)."""

    name: ClassVar[str] = "log"
    logger: str
    level: str
    message: str
    exc_text: str | None = None
    #: The record as the project's own handler formats it (its formatter: structlog's
    #: ProcessorFormatter, a JSON formatter, ...), multi-line text kept; None when no handler
    #: the project configured for the console formats it (then ``message`` + ``exc_text``).
    formatted: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ConsoleOutput(Event):
    """A line the server process wrote to its stdout or stderr."""

    name: ClassVar[str] = "console"
    stream: Literal["stdout", "stderr"]
    text: str


# -- reload --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ReloadWatching(Event):
    """Reloading is on: the watched folders and the effective include/exclude globs."""

    name: ClassVar[str] = "reload-watching"
    roots: tuple[str, ...]
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class FilesChanged(Event):
    """The watcher saw a (debounced) batch of changes and decided what to do about it."""

    name: ClassVar[str] = "files-changed"
    paths: tuple[str, ...]
    #: "restart", "templates" (reset loaders, no restart), "ignore", "rebuild" (warm process too).
    action: ReloadAction
    reason: str = ""


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ReloadFinished(Event):
    """A reload finished: how, how long until the new server answered, and the outcome."""

    name: ClassVar[str] = "reload-finished"
    generation: int
    #: "fork" (fast path from the warm process), "spawn" (full respawn), "templates", "manual".
    path: ReloadVia
    duration_ns: int
    ok: bool = True
    paths: tuple[str, ...] = ()
    error: ExceptionInfo | None = None
    #: Why this path was taken (e.g. "settings.py is loaded at start-up", "fork unavailable").
    reason: str = ""


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ReloadLoopDetected(Event):
    """The same non-source file triggered reloads repeatedly; it is now ignored."""

    name: ClassVar[str] = "reload-loop"
    path: str
    count: int
