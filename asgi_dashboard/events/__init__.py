"""The event schema: the one contract between the server side and everything that watches it.

Every fact the server side reports (the server started, a request finished, a WebSocket frame
went by, a file change triggered a reload ...) is one of the frozen dataclasses of this package.
The child process sends them to the parent over a dedicated pipe (msgpack frames, see
:mod:`asgi_dashboard.eventpipe`); the in-process server hands the same objects to the parent
directly. The JSON-lines codec (:mod:`.codec`) is the public form: headless ``--json`` output
prints exactly these lines, so the names are a public interface: every line has ``"event"`` (the
event's name), ``"v"`` (schema version) and ``"ts"`` (wall time, seconds since the epoch).

Layout: :mod:`.base` (shared behaviour, nested value types, ``Event``), :mod:`.server` (the
server's life, console, reloads), :mod:`.traffic` (HTTP, WebSocket), :mod:`.diagnostics` (loop,
middleware audit, drops), :mod:`.codec` (registry, JSON lines). Import from here:
``from asgi_dashboard.events import RequestFinished``.

Rules:

* Durations are integer nanoseconds from :func:`time.perf_counter_ns` (fields ending ``_ns``).
  Wording and formatting belong to :mod:`asgi_dashboard.describe` and the views.
* Nothing here imports Textual or Django: the child, the parent and the tests all import this.
* New fields get defaults so that older lines still decode; removing or renaming a field bumps
  :data:`SCHEMA_VERSION`. A field with a closed set of values is a ``Literal``.
"""

from __future__ import annotations

from .base import (
    SCHEMA_VERSION,
    CancelReason,
    Capability,
    Event,
    ExceptionInfo,
    FailurePhase,
    FrameInfo,
    Header,
    Hop,
    HopCause,
    Kind,
    Mode,
    NPlusOne,
    Record,
    ReloadAction,
    ReloadVia,
    SqlQuery,
    StopReason,
    now,
)
from .codec import BY_NAME, EVENT_TYPES, DecodeError, decode, encode, from_dict, to_dict
from .diagnostics import EventsDropped, LoopBlocked, LoopLag, MiddlewareAudit, MiddlewareInfo
from .processes import DetachReason, ProcessAttached, ProcessDetached
from .server import (
    CheckMessage,
    ConsoleOutput,
    FilesChanged,
    LogRecord,
    ReloadFinished,
    ReloadLoopDetected,
    ReloadWatching,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
)
from .traffic import (
    HandlerRun,
    LayerOp,
    LayerOpName,
    RequestFinished,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)

__all__ = [
    # registry and JSON-lines codec
    "BY_NAME",
    "EVENT_TYPES",
    # schema basics and value sets
    "SCHEMA_VERSION",
    "CancelReason",
    "Capability",
    "CheckMessage",
    "ConsoleOutput",
    "DecodeError",
    "DetachReason",
    # events
    "Event",
    "EventsDropped",
    # nested values
    "ExceptionInfo",
    "FailurePhase",
    "FilesChanged",
    "FrameInfo",
    "HandlerRun",
    "Header",
    "Hop",
    "HopCause",
    "Kind",
    "LayerOp",
    "LayerOpName",
    "LogRecord",
    "LoopBlocked",
    "LoopLag",
    "MiddlewareAudit",
    "MiddlewareInfo",
    "Mode",
    "NPlusOne",
    "ProcessAttached",
    "ProcessDetached",
    "Record",
    "ReloadAction",
    "ReloadFinished",
    "ReloadLoopDetected",
    "ReloadVia",
    "ReloadWatching",
    "RequestFinished",
    "ServerFailed",
    "ServerStarted",
    "ServerStarting",
    "ServerStopped",
    "SqlQuery",
    "StopReason",
    "WsAccepted",
    "WsClosed",
    "WsFrame",
    "WsOpened",
    "decode",
    "encode",
    "from_dict",
    "now",
    "to_dict",
]
