"""The schema's foundations: the shared ``Record`` behaviour, the nested value types, ``Event``.

Nothing here imports Textual or Django: the child, the parent and the tests all import this.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

SCHEMA_VERSION = 1

Kind = Literal["sync", "async"]
#: How the server runs: a supervised child, in the dashboard's process, or not ours at all
#: (``asgi-dash collect``: processes with the attach wrapper report to the dashboard).
Mode = Literal["child", "in-process", "collect"]
Header = tuple[str, str]


#: Where a start-up failure happened (``ServerFailed.phase``; ``bind``: the port).
FailurePhase = Literal["discovery", "settings", "import", "bind", "runtime"]
#: What a batch of file changes leads to (``FilesChanged.action``).
ReloadAction = Literal["restart", "rebuild", "templates", "ignore"]
#: How a reload was done (``ReloadFinished.path``): "fork" from the warm process, "spawn" a new
#: one, "templates" (loaders reset, no restart), "manual" (asked for with ``r``).
ReloadVia = Literal["fork", "spawn", "templates", "manual"]
#: Why a request ended before the application answered it (``RequestFinished.cancelled``).
CancelReason = Literal["reload", "invalid-http", "client-gone", "no-response"]
#: What a middleware class declares it can run as (``sync_capable``/``async_capable``).
Capability = Literal["sync", "async", "both"]
#: Why a server process stopped (``ServerStopped.reason``).
StopReason = Literal["requested", "crashed", "failed"]


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
        return tuple(getattr(self, name) for name in field_names(type(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in field_names(type(self)))
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def field_names(cls: type) -> tuple[str, ...]:
    """The dataclass's field names in order (cached: the codecs ask once per event)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


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


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class NPlusOne(Record):
    """An N+1 query pattern: one SQL shape issued ``count`` times from one project line (a loop
    over the rows of an earlier query), and the fix when it could be derived from the models.

    Found in the server process (``instrument/nplus1.py``), where Django's models are known.
    """

    #: Statements of this shape issued from ``source`` in the request.
    count: int
    #: The SQL shape (values replaced by ``?``: ``sqlgroups.sql_shape``), no parameter values.
    shape: str
    #: The project line that issued them (the loop's body); None when only library code was on
    #: the stack (e.g. a DRF serializer reading a relation).
    source: FrameInfo | None = None
    #: The model the repeated statement reads (``app_label.Model``), if known.
    model: str | None = None
    #: The model of the earlier query whose rows the loop walks (``app_label.Model``): the
    #: queryset to change.
    queryset_model: str | None = None
    #: The relation on ``queryset_model`` the loop follows (e.g. ``category``, ``items``).
    relation: str | None = None
    #: The fix to apply to that queryset, e.g. ``select_related('category')`` or
    #: ``prefetch_related('tags')``; None when the relation could not be derived.
    fix: str | None = None


#: What made a request hop from the event loop to a thread (``Hop.cause_kind``).
HopCause = Literal["middleware", "view", "signal", "project", "other"]


@dataclass(slots=True, repr=False, eq=False)
class Hop(Record):
    """One switch of a request from the event loop to a thread and back (``sync_to_async``).

    Not ``frozen`` (treat it as immutable all the same): a request makes ~15 hops and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) measured 5x slower to build,
    against the timeline's budget of 10 us per request (bench/hopcost.py).

    Offsets and durations are integer ns; ``submitted_ns``/``started_ns`` are counted from the
    request's start (the tap's). ``wait_ns`` is submit -> start of the run on the thread (the
    queue behind the executor: Django's thread-sensitive one is one thread per request, shared
    by its sync middleware, view and calls; plus the hop itself);
    ``run_ns`` is the sync callable's own run. ``thread`` is the name of the thread that ran it
    ("" when the run was not seen: a ``sync_to_async`` given its own ``context``). See
    ``instrument/hops.py``.
    """

    #: Middleware class (dotted), the view, ``signal <name>: receivers``, or the callable's name.
    cause: str
    cause_kind: HopCause
    submitted_ns: int
    started_ns: int = 0
    wait_ns: int = 0
    run_ns: int = 0
    thread: str = ""
    #: The project line that called ``sync_to_async`` (``cause_kind`` "project"), else None.
    source: FrameInfo | None = None


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class Event(Record):
    """Base class. ``name`` is the wire name; ``ts`` is wall time of the fact."""

    name: ClassVar[str] = "event"
    ts: float = field(default_factory=now)
