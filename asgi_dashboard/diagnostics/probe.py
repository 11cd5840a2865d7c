"""Fire N requests with concurrency C at one or two URLs and compare them (no Textual, no Django).

The tutorial's "compare performance" exercise: ``/sync/?ms=50`` against ``/async/?ms=50``. Each
URL is probed on its own (one after the other, each with a fresh ``httpx.AsyncClient`` whose pool
holds C connections), so the two runs do not compete and neither inherits the other's warm
connections. Every request carries ``x-asgi-dash-probe: <run id>:<url index>``; the server side
records request headers, so :func:`attach_server_events` can pick the run's
:class:`~asgi_dashboard.events.RequestFinished` events out of the stream and aggregate what the
server measured (view vs thread wait vs SQL) next to what the client saw.

Bounded: at most :data:`MAX_REQUESTS` requests and :data:`MAX_CONCURRENCY` in flight per URL,
and loopback targets only unless the caller explicitly allows others (a load generator pointed at
someone else's server by a typo is not a development tool).
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import httpx

from ..events import RequestFinished
from ..stats import percentile
from .options import DEFAULT_CONCURRENCY as DEFAULT_CONCURRENCY
from .options import DEFAULT_REQUESTS as DEFAULT_REQUESTS

PROBE_HEADER = "x-asgi-dash-probe"
MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 200
MAX_URLS = 2
#: Error messages kept per URL (the count stays exact).
ERROR_SAMPLES = 5


class ProbeRefused(ValueError):
    """The probe will not run: a non-loopback host, too many URLs, bad bounds."""


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    urls: tuple[str, ...]
    requests: int = DEFAULT_REQUESTS
    concurrency: int = DEFAULT_CONCURRENCY
    method: str = "GET"
    timeout: float = 30.0
    allow_remote: bool = False
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    def validate(self) -> None:
        if not 1 <= len(self.urls) <= MAX_URLS:
            raise ProbeRefused(f"give one or two URLs, not {len(self.urls)}")
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ProbeRefused(f"requests must be 1-{MAX_REQUESTS}, got {self.requests}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ProbeRefused(f"concurrency must be 1-{MAX_CONCURRENCY}, got {self.concurrency}")
        for url in self.urls:
            if urlsplit(url).scheme not in ("http", "https"):
                raise ProbeRefused(f"{url} is not an http(s) URL")
            if not self.allow_remote and not is_loopback_url(url):
                raise ProbeRefused(
                    f"{url} is not a loopback address: the probe only loads this machine's "
                    "servers unless remote targets are explicitly allowed"
                )


@dataclass(frozen=True, slots=True)
class ServerBreakdown:
    """What the server measured for one URL's requests during the run (nanoseconds)."""

    matched: int
    total_p50_ns: float
    view_p50_ns: float | None
    #: Sync views only: queueing for and hopping to the worker thread.
    thread_wait_p50_ns: float | None
    thread_wait_mean_ns: float | None
    sql_mean_ns: float
    sql_count_mean: float
    sync_hops_mean: float
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UrlResult:
    """The client's view of one URL's run."""

    url: str
    index: int
    requests: int
    concurrency: int
    wall_ns: int
    #: Latency of every completed request (any status), sorted, nanoseconds.
    latencies_ns: tuple[int, ...]
    statuses: tuple[tuple[int, int], ...]
    #: Transport errors (refused, timeout ...) plus 5xx responses.
    errors: int
    error_samples: tuple[str, ...] = ()
    server: ServerBreakdown | None = None

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses if status < 400)

    @property
    def requests_per_s(self) -> float:
        return self.requests / (self.wall_ns / 1e9) if self.wall_ns else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies_ns, q)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    run_id: str
    requests: int
    concurrency: int
    results: tuple[UrlResult, ...]

    def marker(self, index: int) -> str:
        return f"{self.run_id}:{index}"


# -- math (pure) ------------------------------------------------------------------------------


def histogram_edges(values: Iterable[float], bins: int = 10) -> list[float]:
    """``bins + 1`` equal-width edges from min to max of ``values`` (shared by every URL of a
    run, so side-by-side histograms line up). A single value gets a 1-wide bin around it."""
    data = list(values)
    if not data or bins < 1:
        return []
    lo, hi = min(data), max(data)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    width = (hi - lo) / bins
    return [lo + i * width for i in range(bins)] + [hi]


def histogram(values: Iterable[float], edges: Sequence[float]) -> list[int]:
    """Counts per bin ``[edge[i], edge[i+1])``, the last bin closed; values outside are dropped."""
    if len(edges) < 2:
        return []
    counts = [0] * (len(edges) - 1)
    lo, hi = edges[0], edges[-1]
    width = (hi - lo) / len(counts)
    for v in values:
        if v < lo or v > hi:
            continue
        i = min(int((v - lo) / width), len(counts) - 1) if width else 0
        # Guard against float rounding at the edges.
        while i > 0 and v < edges[i]:
            i -= 1
        while i < len(counts) - 1 and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return counts


def _p50(values: list[int]) -> float | None:
    return percentile(sorted(values), 50) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def breakdown(events: Sequence[RequestFinished]) -> ServerBreakdown | None:
    """Aggregate the server's own measurements of a set of requests."""
    if not events:
        return None
    waits = [e.thread_wait_ns for e in events if e.thread_wait_ns is not None]
    views = [e.view_ns for e in events if e.view_ns is not None]
    return ServerBreakdown(
        matched=len(events),
        total_p50_ns=_p50([e.total_ns for e in events]) or 0.0,
        view_p50_ns=_p50(views),
        thread_wait_p50_ns=_p50(waits),
        thread_wait_mean_ns=_mean(waits),
        sql_mean_ns=_mean([e.sql_ns for e in events]) or 0.0,
        sql_count_mean=_mean([e.sql_count for e in events]) or 0.0,
        sync_hops_mean=_mean([e.sync_hops for e in events]) or 0.0,
        kinds=tuple(sorted({e.kind for e in events if e.kind})),
    )


def probe_marker(event: RequestFinished) -> str | None:
    for name, value in event.request_headers:
        if name.lower() == PROBE_HEADER:
            return value
    return None


def attach_server_events(result: ProbeResult, events: Iterable[object]) -> ProbeResult:
    """The result with each URL's :class:`ServerBreakdown` from the run's request events
    (any iterable of events; those without this run's marker are ignored)."""
    by_marker: dict[str, list[RequestFinished]] = {}
    for e in events:
        if isinstance(e, RequestFinished):
            marker = probe_marker(e)
            if marker is not None and marker.startswith(result.run_id + ":"):
                by_marker.setdefault(marker, []).append(e)
    results = tuple(
        replace(r, server=breakdown(by_marker.get(result.marker(r.index), [])))
        for r in result.results
    )
    return replace(result, results=results)


# -- running ----------------------------------------------------------------------------------

Progress = Callable[[int, int, int], None]
"""``(url index, requests done, requests total)``, called as requests complete."""


async def probe_url(
    url: str,
    index: int,
    config: ProbeConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_progress: Progress | None = None,
) -> UrlResult:
    """N requests at ``url`` with at most C in flight: C workers pulling from one counter."""
    latencies: list[int] = []
    statuses: Counter[int] = Counter()
    samples: list[str] = []
    errors = 0
    remaining = config.requests
    done = 0
    headers = {PROBE_HEADER: f"{config.run_id}:{index}"}
    limits = httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=None)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal remaining, done, errors
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter_ns()
            try:
                response = await client.request(config.method, url, headers=headers)
                await response.aread()
            except httpx.HTTPError as exc:
                errors += 1
                if len(samples) < ERROR_SAMPLES:
                    samples.append(f"{type(exc).__name__}: {exc}"[:200])
            else:
                latencies.append(time.perf_counter_ns() - start)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    errors += 1
                    if len(samples) < ERROR_SAMPLES:
                        samples.append(f"HTTP {response.status_code}")
            done += 1
            if on_progress is not None:
                on_progress(index, done, config.requests)

    async with httpx.AsyncClient(
        timeout=config.timeout, limits=limits, transport=transport, follow_redirects=False
    ) as client:
        start = time.perf_counter_ns()
        await asyncio.gather(*(worker(client) for _ in range(config.concurrency)))
        wall = time.perf_counter_ns() - start
    return UrlResult(
        url=url,
        index=index,
        requests=config.requests,
        concurrency=config.concurrency,
        wall_ns=wall,
        latencies_ns=tuple(sorted(latencies)),
        statuses=tuple(sorted(statuses.items())),
        errors=errors,
        error_samples=tuple(samples),
    )


async def run_probe(
    config: ProbeConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    on_progress: Progress | None = None,
) -> ProbeResult:
    """Probe each URL in turn (raises :class:`ProbeRefused` before sending anything)."""
    config.validate()
    results = []
    for index, url in enumerate(config.urls):
        results.append(
            await probe_url(url, index, config, transport=transport, on_progress=on_progress)
        )
    return ProbeResult(config.run_id, config.requests, config.concurrency, tuple(results))
