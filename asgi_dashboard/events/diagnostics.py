"""Diagnostics: a blocked event loop, loop lag, the middleware audit, dropped events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Capability, Event, FrameInfo, Kind, Record

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
    capability: Capability
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
    entries: tuple[tuple[str, Capability, bool], ...]
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
