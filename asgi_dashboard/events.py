"""The event schema: the one contract between the server side and everything that watches it.

Every fact the server side reports (the server started, a request finished, a WebSocket frame
went by, a file change triggered a reload ...) is one of the frozen dataclasses below. The child
process sends them to the parent over a dedicated pipe (packed with :mod:`marshal`, see
:mod:`.eventpipe`); the in-process server hands the same objects to the parent directly. The
JSON-lines codec here is the public form: headless ``--json`` output prints exactly these lines,
so the names are a public interface: every line has ``"event"`` (the event's name), ``"v"``
(schema version) and ``"ts"`` (wall time, seconds since the epoch).

Rules:

* Durations are integer nanoseconds from :func:`time.perf_counter_ns` (fields ending ``_ns``).
  Formatting belongs to the widgets and the headless printer.
* Nothing here imports Textual or Django: the child, the parent and the tests all import this.
* New fields get defaults so that older lines still decode; removing or renaming a field bumps
  :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin, get_type_hints

SCHEMA_VERSION = 1

Kind = Literal["sync", "async"]
Mode = Literal["child", "in-process"]
Header = tuple[str, str]


def now() -> float:
    """Wall-clock timestamp used for ``ts`` fields."""
    return time.time()


class Record:
    """``__repr__``, ``__eq__`` and ``__hash__`` for every dataclass of the schema, written once.

    The schema's dataclasses are declared with ``repr=False, eq=False`` and inherit these: letting
    ``dataclasses`` generate them per class costs ~75 ``exec()`` calls, about a third of this
    module's import time, which every server process pays before it can serve (cold start, see
    bench/). Same semantics as the generated ones: equal when of the same class with equal fields.
    """

    __slots__ = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _field_names(type(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _field_names(type(self)))
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))


# --------------------------------------------------------------------------------------------
# Nested value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class FrameInfo(Record):
    """One stack frame: where in the project's code something happened."""

    filename: str
    lineno: int
    function: str
    line: str = ""
    #: 1-based column of a SyntaxError within ``line`` (where Python puts its caret), else None.
    offset: int | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class ExceptionInfo(Record):
    """An exception raised by a view, a consumer or the project's start-up code."""

    type: str
    message: str
    traceback: str
    #: The innermost frame that belongs to the project (not Django, not site-packages), if any.
    frame: FrameInfo | None = None
    #: A short, concrete suggestion (e.g. for ``SynchronousOnlyOperation``), if we have one.
    hint: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class SqlQuery(Record):
    """One SQL statement executed while serving a request, with its duration.

    The statements are the ones Django records (``connection.queries``,
    ``CaptureQueriesContext``): every cursor statement and the transaction statements Django
    issues on the connection itself (``BEGIN`` on some backends, ``COMMIT``, ``ROLLBACK``).
    ``sql`` is the statement as the code passed it (placeholders, not interpolated values).
    """

    sql: str
    duration_ns: int
    many: bool = False
    #: The parameters, each as a bounded ``repr`` (see ``instrument/sql.py``): equal tuples mean
    #: the same values. ``()`` when the statement had none (or was recorded before they were).
    #: Values can be secrets: exports and ``--json`` redact them (``redact.py``).
    params: tuple[str, ...] = ()
    #: The innermost frame in the project's own code that issued it; None when only Django or a
    #: library was on the stack (e.g. the session middleware, ``ATOMIC_REQUESTS``' COMMIT).
    source: FrameInfo | None = None


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class Event(Record):
    """Base class. ``name`` is the wire name; ``ts`` is wall time of the fact."""

    name: ClassVar[str] = "event"
    ts: float = field(default_factory=now)


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


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ServerStopped(Event):
    """A server process (or the in-process server) stopped."""

    name: ClassVar[str] = "server-stopped"
    pid: int
    generation: int = 0
    exit_code: int | None = None
    #: Signal name if the process was killed by a signal (e.g. "SIGKILL").
    signal: str | None = None
    #: "requested" (stop or restart asked for it), "crashed" (it went away on its own) or
    #: "failed" (it reported ServerFailed: the project could not be loaded).
    reason: Literal["requested", "crashed", "failed"] = "requested"
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
    #: "discovery", "settings", "import", "bind", "runtime".
    phase: str
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


# -- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class RequestFinished(Event):
    """One finished HTTP request. ``ts`` is the wall time it *started*."""

    name: ClassVar[str] = "request"
    id: str
    method: str
    path: str
    status: int
    query: str = ""
    generation: int = 0
    client: str | None = None
    static: bool = False
    #: Route pattern as written in the URLconf (e.g. "polls/<int:pk>/"), None if unresolved.
    route: str | None = None
    url_name: str | None = None
    #: Readable dotted path of the view (see instrument/naming.py): the view Django resolved,
    #: also when a middleware answered before it ran (then ``answered_by`` says which); None
    #: when the URL resolves to no view (a 404).
    view: str | None = None
    kind: Kind | None = None
    #: The middleware class whose ``__call__`` (or ``process_view``) returned the response
    #: before the view ran (e.g. ``django.middleware.csrf.CsrfViewMiddleware`` for a POST
    #: without a CSRF token), so ``view_ns`` is None; None when the view ran or for a 404.
    answered_by: str | None = None
    response_size: int = 0
    #: Durations, integer nanoseconds (see instrument/tap.py for how each one is measured).
    total_ns: int = 0
    view_ns: int | None = None
    thread_wait_ns: int | None = None
    template_ns: int | None = None
    #: The part of ``template_ns`` rendered while the view ran (``render()``); the rest was
    #: rendered after it returned (``TemplateResponse``, rendered by Django's handler).
    template_in_view_ns: int = 0
    sql_count: int = 0
    sql_ns: int = 0
    #: Bounded list of statements (the count above is exact even when this is truncated).
    sql: tuple[SqlQuery, ...] = ()
    #: Sync/async context switches Django made for middleware adaptation (see instrument).
    sync_hops: int = 0
    error: ExceptionInfo | None = None
    request_headers: tuple[Header, ...] = ()
    response_headers: tuple[Header, ...] = ()
    #: Headers left out of the two tuples above (kept: the first 100, at most 64 KiB in all;
    #: instrument/tap.py ``MAX_EVENT_HEADERS``): 0 when every header is there.
    request_headers_dropped: int = 0
    response_headers_dropped: int = 0
    #: Bounded previews (latin-1 safe text); ``*_truncated`` says whether more was sent.
    request_body: str = ""
    request_body_truncated: bool = False
    response_body: str = ""
    response_body_truncated: bool = False
    #: True when the body preview is base64 because the content was not text.
    request_body_b64: bool = False
    response_body_b64: bool = False
    #: Why the request was cancelled before the application finished it, if it was: "reload"
    #: (the server was stopped for a reload or a quit and the graceful timeout ran out; the
    #: client got a 503 with ``Retry-After``). Not an error of the view. When the application
    #: sent no response, ``status`` is what the client got and this says why: "invalid-http"
    #: (the body was invalid HTTP, e.g. a broken chunked encoding: Uvicorn answered 400 itself),
    #: "client-gone" (the client disconnected first: nothing was sent, ``status`` is 0, the only
    #: case it is), "no-response" (the app returned without one: Uvicorn answered 500).
    cancelled: str | None = None


# -- WebSocket ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsOpened(Event):
    """A WebSocket handshake arrived (before the consumer accepts or rejects it)."""

    name: ClassVar[str] = "ws-opened"
    id: str
    path: str
    query: str = ""
    generation: int = 0
    client: str | None = None
    subprotocols: tuple[str, ...] = ()
    request_headers: tuple[Header, ...] = ()
    #: Headers left out of ``request_headers`` (see RequestFinished.request_headers_dropped).
    request_headers_dropped: int = 0


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsAccepted(Event):
    """The consumer accepted the handshake (or rejected it: ``accepted`` False)."""

    name: ClassVar[str] = "ws-accepted"
    id: str
    accepted: bool = True
    #: HTTP status of a rejection (403 for a plain ``close()`` before accept).
    status: int | None = None
    subprotocol: str | None = None
    consumer: str | None = None
    url_kwargs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsFrame(Event):
    """One frame. ``direction`` is "in" (client to consumer) or "out" (consumer to client)."""

    name: ClassVar[str] = "ws-frame"
    id: str
    direction: Literal["in", "out"]
    size: int
    binary: bool = False
    #: Bounded preview: the text itself, or hex of the first bytes for binary frames.
    preview: str = ""
    truncated: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsClosed(Event):
    """The connection ended."""

    name: ClassVar[str] = "ws-closed"
    id: str
    code: int | None = None
    reason: str = ""
    #: "client", "server", or "error" (the consumer raised).
    by: Literal["client", "server", "error"] = "client"
    duration_ns: int = 0
    frames_in: int = 0
    frames_out: int = 0
    consumer: str | None = None
    error: ExceptionInfo | None = None


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
    action: str
    reason: str = ""


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ReloadFinished(Event):
    """A reload finished: how, how long until the new server answered, and the outcome."""

    name: ClassVar[str] = "reload-finished"
    generation: int
    #: "fork" (fast path from the warm process), "spawn" (full respawn), "templates", "manual".
    path: str
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


# -- diagnostics ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class LoopBlocked(Event):
    """The server's event loop did not turn for ``duration_ns``; where it was stuck."""

    name: ClassVar[str] = "loop-blocked"
    duration_ns: int
    frame: FrameInfo | None = None
    stack: str = ""
    #: Request/connection ids in flight on the loop at the time (method + path for readability).
    in_flight: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class LoopLag(Event):
    """Periodic loop-lag sample (current and max over the last minute), nanoseconds."""

    name: ClassVar[str] = "loop-lag"
    current_ns: int
    max_ns: int


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class MiddlewareInfo(Record):
    """One MIDDLEWARE entry as Django's async handler runs it (see diagnostics/audit.py)."""

    path: str
    #: What the class declares: "sync", "async" or "both" (``sync_capable``/``async_capable``).
    capability: str
    #: The mode Django runs it in inside this chain.
    runs_as: Kind
    #: Django wrapped the handler below it (``adapt_method_mode``): a sync/async switch.
    adapted: bool = False
    #: Predicted ``SyncToAsync`` calls (thread hops) per request caused by this entry.
    hops: int = 0
    #: Predicted ``AsyncToSync`` calls (back to the loop) per request caused by this entry.
    switches: int = 0
    #: Hook methods it defines that Django calls (``process_view``, ``process_request`` ...).
    hooks: tuple[str, ...] = ()
    #: What to change, when there is something the project can change.
    fix: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class MiddlewareAudit(Event):
    """The project's MIDDLEWARE with each entry's sync/async capability."""

    name: ClassVar[str] = "middleware-audit"
    #: (dotted path, "sync", "async" or "both", adapted?) per entry, outermost first.
    entries: tuple[tuple[str, str, bool], ...]
    handler_is_async: bool = True
    #: The same entries in full, outermost first.
    details: tuple[MiddlewareInfo, ...] = ()
    #: Predicted thread hops (``SyncToAsync`` calls) per request made by the middleware chain
    #: alone; the request events' ``sync_hops`` also count the view and signal hops.
    hops_per_request: int = 0
    #: Predicted switches back to the loop (``AsyncToSync`` calls) per request.
    switches_per_request: int = 0
    #: Measured median cost of one ``sync_to_async`` round trip in the server process, and of
    #: one ``async_to_sync`` call made from that thread; None if not measured.
    hop_ns: int | None = None
    switch_ns: int | None = None
    #: hops x hop_ns + switches x switch_ns: what the chain's switching costs each request.
    cost_ns_per_request: int | None = None
    #: Whether DEBUG is on (Django only logs "... handler adapted for middleware ..." at DEBUG).
    debug: bool = False
    #: Why the audit is incomplete (an entry failed to import ...), if it is.
    error: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class EventsDropped(Event):
    """The producer had to drop events (never silently): how many since the last report."""

    name: ClassVar[str] = "events-dropped"
    count: int


# --------------------------------------------------------------------------------------------
# Registry and codec
# --------------------------------------------------------------------------------------------

EVENT_TYPES: tuple[type[Event], ...] = (
    ServerStarting,
    ServerStarted,
    ServerStopped,
    ServerFailed,
    CheckMessage,
    RequestFinished,
    WsOpened,
    WsAccepted,
    WsFrame,
    WsClosed,
    LogRecord,
    ConsoleOutput,
    ReloadWatching,
    FilesChanged,
    ReloadFinished,
    ReloadLoopDetected,
    LoopBlocked,
    LoopLag,
    MiddlewareAudit,
    EventsDropped,
)
BY_NAME: dict[str, type[Event]] = {cls.name: cls for cls in EVENT_TYPES}

E = TypeVar("E", bound=Event)


class DecodeError(ValueError):
    """A line that is not a valid event."""


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _to_json(value: Any) -> Any:
    # Hot path (one call per field of every request event): plain values first.
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _to_json(getattr(value, name)) for name in _field_names(type(value))}
    return value


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event, with ``event`` and ``v`` first."""
    out: dict[str, Any] = {"event": event.name, "v": SCHEMA_VERSION}
    for name in _field_names(type(event)):
        out[name] = _to_json(getattr(event, name))
    return out


# Encoding fast path (the child's event writer runs it once per event): a per-class plan says
# which fields can hold a nested dataclass; every other field goes to the C JSON encoder as is
# (tuples serialize exactly like lists), and the encoder object is built once. Same bytes as
# ``json.dumps(to_dict(event), separators=(",", ":"), ensure_ascii=False)``; measured on a demo
# ``/sync/`` RequestFinished: 30 us -> see bench/README.md for the numbers.
_WIRE_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _holds_dataclass(tp: Any) -> bool:
    if dataclasses.is_dataclass(tp):
        return True
    return any(_holds_dataclass(arg) for arg in get_args(tp) if arg is not Ellipsis)


def _wire_plan(cls: type) -> tuple[tuple[str, bool], ...]:
    plan = _WIRE_PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = tuple((f.name, _holds_dataclass(hints[f.name])) for f in dataclasses.fields(cls))
        _WIRE_PLANS[cls] = plan
    return plan


def _default(value: Any) -> Any:
    # A dataclass in a field whose annotation does not say so: convert it as to_dict would.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_json(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, default=_default
)


def encode(event: Event) -> bytes:
    """One JSON line (with the trailing newline), UTF-8."""
    out: dict[str, Any] = {"event": event.name, "v": SCHEMA_VERSION}
    for name, nested in _wire_plan(type(event)):
        value = getattr(event, name)
        out[name] = _to_json(value) if nested and value is not None else value
    return (_ENCODER.encode(out) + "\n").encode()


def encode_many(events: Iterable[Event]) -> bytes:
    """Several events as one buffer: a single write to the pipe for a batch."""
    return b"".join(encode(e) for e in events)


# Decoding: per class, a list of (field name, converter) computed once from the type hints, so
# nested dataclasses and tuples come back as the same types that went in.

_Converter = Any
_DECODERS: dict[type, list[tuple[str, _Converter]]] = {}


def _identity(value: Any) -> Any:
    return value


def _converter_for(tp: Any) -> _Converter:
    origin = get_origin(tp)
    args = get_args(tp)
    if dataclasses.is_dataclass(tp):
        return lambda v, _tp=tp: None if v is None else _from_json(_tp, v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _converter_for(args[0])
            if inner is None:
                return tuple
            if inner is tuple:  # e.g. headers: tuple[tuple[str, str], ...]
                return lambda v: tuple(map(tuple, v))
            return lambda v: tuple(map(inner, v))
        if all(_converter_for(a) is None for a in args):
            return tuple  # a fixed-size tuple of plain values
        inners = [_converter_for(a) or _identity for a in args]
        return lambda v: tuple(c(x) for c, x in zip(inners, v, strict=True))
    if args and type(None) in args:  # Optional[X]
        real = [a for a in args if a is not type(None)]
        if len(real) == 1:
            inner = _converter_for(real[0])
            if inner is not None:
                return lambda v: None if v is None else inner(v)
    return None  # plain JSON value


def _plan(cls: type) -> list[tuple[str, _Converter]]:
    plan = _DECODERS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = [(f.name, _converter_for(hints[f.name])) for f in dataclasses.fields(cls)]
        _DECODERS[cls] = plan
    return plan


def _from_json(cls: type[E], data: dict[str, Any]) -> E:
    kwargs = {}
    for name, conv in _plan(cls):
        if name in data:
            value = data[name]
            kwargs[name] = conv(value) if conv is not None else value
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form; unknown fields are ignored (forward compatible)."""
    try:
        cls = BY_NAME[data["event"]]
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"not an asgi-dash event: {data!r:.80}") from exc
    try:
        return _from_json(cls, data)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"malformed {cls.name} event: {exc}") from exc


def decode(line: bytes | str) -> Event:
    """Decode one JSON line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    return from_dict(data)


__all__ = [name for name in dir() if not name.startswith("_")]
