"""Per-view aggregates, percentiles and the ring buffer: the UI's numbers, without Textual.

Memory is bounded: a :class:`RingBuffer` keeps the last N items, and each view keeps its last
:data:`SAMPLE_WINDOW` latencies for percentiles (count, errors, max and means stay exact over
everything seen since the last clear). :mod:`asgi_dashboard.model` builds the log on top.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .events import NPlusOne, RequestFinished

T = TypeVar("T")


#: Latencies kept per view for percentiles (a sliding window over the most recent requests).
SAMPLE_WINDOW = 1024


class RingBuffer(Generic[T]):
    """A fixed-capacity FIFO: appending past capacity evicts (and returns) the oldest item."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: deque[T] = deque()
        #: Items ever appended, and how many were evicted to stay within capacity.
        self.appended = 0
        self.evicted = 0

    def append(self, item: T) -> T | None:
        self.appended += 1
        self._items.append(item)
        if len(self._items) > self.capacity:
            self.evicted += 1
            return self._items.popleft()
        return None

    def clear(self) -> None:
        self._items.clear()

    def last(self, n: int) -> list[T]:
        """The newest ``n`` items, oldest first."""
        if n <= 0:
            return []
        if n >= len(self._items):
            return list(self._items)
        return [self._items[i] for i in range(len(self._items) - n, len(self._items))]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __reversed__(self) -> Iterator[T]:
        return reversed(self._items)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of already-sorted values, linear interpolation.

    The same definition as numpy's default and ``statistics.quantiles(method="inclusive")``:
    rank ``q/100 * (n-1)`` between the two nearest samples. 0 for no values.
    """
    n = len(sorted_values)
    if n == 0:
        return 0.0
    rank = max(0.0, min(100.0, q)) / 100 * (n - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, n - 1)
    frac = rank - lo
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac


# --------------------------------------------------------------------------------------------
# Per-view aggregates
# --------------------------------------------------------------------------------------------

#: (route, view), plus the answering middleware for requests a middleware answered.
ViewKey = tuple[str, ...]


@dataclass(slots=True, eq=False)
class ViewAggregate:
    """Running totals for one (route, view) pair.

    Requests a middleware answered before the view ran (``RequestFinished.answered_by``, e.g. a
    CSRF 403) have a row of their own per answering middleware, under the same route and view,
    with the kind ``"by mw"``: their latency is the middleware's, not the view's.
    """

    route: str
    view: str
    kind: str = "-"
    #: The middleware that answered these requests (a "by mw" row), else None.
    answered_by: str | None = None
    count: int = 0
    errors: int = 0
    max_ns: int = 0
    total_sum_ns: int = 0
    view_sum_ns: int = 0
    view_count: int = 0
    sql_sum: int = 0
    #: Requests flagged N+1 (``RequestFinished.n_plus_one``), and the newest pattern found.
    n_plus_one: int = 0
    last_n_plus_one: NPlusOne | None = None
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=SAMPLE_WINDOW))
    _sorted: list[int] | None = None
    #: Thread hops (``RequestFinished.sync_hops``) summed, and the waits of the recent hops that
    #: ran (``Hop.wait_ns``, a window as for latencies) for their p95.
    hops_sum: int = 0
    hop_waits: deque[int] = field(default_factory=lambda: deque(maxlen=SAMPLE_WINDOW))
    _hop_waits_sorted: list[int] | None = None

    def add(self, request: RequestFinished, is_error: bool) -> None:
        self.count += 1
        self.errors += is_error
        self.max_ns = max(self.max_ns, request.total_ns)
        self.total_sum_ns += request.total_ns
        if request.view_ns is not None:
            self.view_sum_ns += request.view_ns
            self.view_count += 1
        self.sql_sum += request.sql_count
        if request.n_plus_one:
            self.n_plus_one += 1
            self.last_n_plus_one = request.n_plus_one[0]
        self.recent.append(request.total_ns)
        self._sorted = None  # percentiles are recomputed lazily, once per table refresh
        self.hops_sum += request.sync_hops
        if request.hops:
            self.hop_waits.extend(h.wait_ns for h in request.hops if h.started_ns)
            self._hop_waits_sorted = None

    def p(self, q: float) -> float:
        """Percentile ``q`` of total time over the recent window, in nanoseconds."""
        if self._sorted is None:
            self._sorted = sorted(self.recent)
        return percentile(self._sorted, q)

    def hop_wait_p(self, q: float) -> float | None:
        """Percentile ``q`` of the recent hops' waits for their thread (ns); None: no hops."""
        if not self.hop_waits:
            return None
        if self._hop_waits_sorted is None:
            self._hop_waits_sorted = sorted(self.hop_waits)
        return percentile(self._hop_waits_sorted, q)

    @property
    def mean_hops(self) -> float:
        return self.hops_sum / self.count if self.count else 0.0

    @property
    def mean_total_ns(self) -> float:
        return self.total_sum_ns / self.count if self.count else 0.0

    @property
    def mean_view_ns(self) -> float | None:
        return self.view_sum_ns / self.view_count if self.view_count else None

    @property
    def mean_sql(self) -> float:
        return self.sql_sum / self.count if self.count else 0.0


#: Sort keys for :meth:`ViewStats.rows`: column name -> value to sort on.
SORT_KEYS: dict[str, Callable[[ViewAggregate], float | str]] = {
    "route": lambda a: a.route.lower(),
    "view": lambda a: a.view.lower(),
    "kind": lambda a: a.kind,
    "count": lambda a: a.count,
    "errors": lambda a: a.errors,
    "p50": lambda a: a.p(50),
    "p95": lambda a: a.p(95),
    "p99": lambda a: a.p(99),
    "max": lambda a: a.max_ns,
    "view_mean": lambda a: a.mean_view_ns or 0.0,
    "sql_mean": lambda a: a.mean_sql,
    "n_plus_one": lambda a: a.n_plus_one,
    "hops": lambda a: a.mean_hops,
    "hop_wait_p95": lambda a: a.hop_wait_p(95) or 0.0,
    #: The sparkline column sorts by the newest latency it shows.
    "spark": lambda a: a.recent[-1] if a.recent else 0,
}


class ViewStats:
    """Aggregates per view; static files and unresolved requests (404s) get one row each.

    Requests refused by a middleware count under their view, in a row apart (see
    :class:`ViewAggregate`), so they are never lumped with 404s nor mixed into the view's times.
    """

    def __init__(self) -> None:
        self.by_key: dict[ViewKey, ViewAggregate] = {}
        #: Bumped on every change so a widget can skip refreshes when nothing moved.
        self.version = 0

    @staticmethod
    def key_for(request: RequestFinished) -> ViewKey:
        if request.static:
            return ("", "(static files)")
        if request.answered_by:
            # A URL that resolves to nothing but was answered by a middleware (a login redirect
            # for any path) is not a 404 either: its own "(no view)" row per middleware.
            return (request.route or "", request.view or "(no view)", request.answered_by)
        if request.view is None:
            return ("", "(no view)")
        return (request.route or "", request.view)

    def add(self, request: RequestFinished, is_error: bool) -> None:
        key = self.key_for(request)
        agg = self.by_key.get(key)
        if agg is None:
            agg = self.by_key[key] = ViewAggregate(route=key[0], view=key[1])
            if len(key) > 2:
                agg.answered_by = key[2]
        if request.static:
            agg.kind = "static"
        elif agg.answered_by:
            agg.kind = "by mw"
        elif request.kind:
            agg.kind = request.kind
        agg.add(request, is_error)
        self.version += 1

    def clear(self) -> None:
        self.by_key.clear()
        self.version += 1

    def total_count(self) -> int:
        return sum(a.count for a in self.by_key.values())

    def rows(self, sort: str = "p95", reverse: bool = True) -> list[ViewAggregate]:
        key = SORT_KEYS.get(sort, SORT_KEYS["p95"])
        return sorted(self.by_key.values(), key=key, reverse=reverse)
