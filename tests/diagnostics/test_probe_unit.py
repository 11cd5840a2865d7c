"""Probe math and bookkeeping without a server: histogram, breakdown, matching, bounds, table."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from asgi_dashboard.diagnostics.probe import (
    PROBE_HEADER,
    ProbeConfig,
    ProbeRefused,
    ProbeResult,
    UrlResult,
    attach_server_events,
    breakdown,
    histogram,
    histogram_edges,
    is_loopback_url,
    run_probe,
)
from asgi_dashboard.diagnostics.probe_text import LEGEND_CLIENT, format_probe
from asgi_dashboard.events import RequestFinished

MS = 1_000_000


def test_histogram_edges_are_shared_and_equal_width() -> None:
    assert histogram_edges([10, 20, 30, 50], bins=4) == [10, 20, 30, 40, 50]
    assert histogram_edges([], bins=4) == []
    assert histogram_edges([7, 7], bins=2) == [6.5, 7.0, 7.5]


def test_histogram_counts_last_bin_closed_and_drops_outside() -> None:
    edges = [0.0, 10.0, 20.0, 30.0]
    assert histogram([0, 9.99, 10, 29, 30, 31, -1], edges) == [2, 1, 2]
    assert sum(histogram(range(1000), histogram_edges(range(1000), 7))) == 1000


def test_url_result_percentiles_and_rate() -> None:
    r = UrlResult(
        url="http://127.0.0.1/a",
        index=0,
        requests=5,
        concurrency=2,
        wall_ns=500 * MS,
        latencies_ns=(10, 20, 30, 40, 50),
        statuses=((200, 4), (503, 1)),
        errors=1,
    )
    assert r.requests_per_s == pytest.approx(10.0)
    assert (r.p(50), r.p(95), r.p(100)) == (30, 48, 50)
    assert r.ok == 4


def _event(
    marker: str | None, kind: str, wait: int | None, view: int, **kw: object
) -> RequestFinished:
    headers = (("host", "x"),) + (((PROBE_HEADER, marker),) if marker else ())
    return RequestFinished(
        id="1",
        method="GET",
        path="/",
        status=200,
        kind=kind,  # type: ignore[arg-type]
        thread_wait_ns=wait,
        view_ns=view,
        total_ns=view + 5,
        request_headers=headers,
        **kw,  # type: ignore[arg-type]
    )


def test_breakdown_and_matching_by_marker() -> None:
    result = ProbeResult(
        "run1",
        2,
        1,
        tuple(
            UrlResult(f"http://127.0.0.1/{i}", i, 2, 1, 1, (1, 2), ((200, 2),), 0) for i in range(2)
        ),
    )
    events = [
        _event("run1:0", "sync", 4, 100, sql_ns=6, sql_count=2, sync_hops=3),
        _event("run1:0", "sync", 8, 300, sync_hops=5),
        _event("run1:1", "async", None, 200),
        _event("other:0", "async", None, 999),  # another run
        _event(None, "async", None, 999),  # not a probe request
    ]
    attached = attach_server_events(result, events)
    s0, s1 = (r.server for r in attached.results)
    assert s0 is not None and s1 is not None
    assert (s0.matched, s0.kinds, s0.view_p50_ns, s0.thread_wait_p50_ns) == (2, ("sync",), 200, 6)
    assert (s0.sql_mean_ns, s0.sql_count_mean, s0.sync_hops_mean) == (3, 1, 4)
    assert (s1.matched, s1.thread_wait_p50_ns, s1.thread_wait_mean_ns) == (1, None, None)
    assert breakdown([]) is None


def test_refuses_remote_and_out_of_bounds() -> None:
    assert is_loopback_url("http://127.0.0.2:8000/") and is_loopback_url("http://[::1]/")
    assert is_loopback_url("http://localhost:1/") and not is_loopback_url("http://10.0.0.1/")
    for config in (
        ProbeConfig(urls=("http://example.com/",)),
        ProbeConfig(urls=("http://127.0.0.1/",), requests=0),
        ProbeConfig(urls=("http://127.0.0.1/",), concurrency=10_000),
        ProbeConfig(urls=("http://127.0.0.1/a", "http://127.0.0.1/b", "http://127.0.0.1/c")),
        ProbeConfig(urls=("ftp://127.0.0.1/",)),
    ):
        with pytest.raises(ProbeRefused):
            config.validate()
    ProbeConfig(urls=("http://example.com/",), allow_remote=True).validate()


async def test_run_probe_bounds_concurrency_counts_errors_and_marks_requests() -> None:
    in_flight = peak = 0
    markers: set[str] = set()
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, calls
        calls += 1
        n = calls
        markers.add(request.headers[PROBE_HEADER])
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.002)
        in_flight -= 1
        if n % 10 == 0:
            raise httpx.ConnectError("refused")
        return httpx.Response(500 if n % 7 == 0 else 200)

    config = ProbeConfig(urls=("http://127.0.0.1/x",), requests=30, concurrency=4, run_id="r")
    result = await run_probe(config, transport=httpx.MockTransport(handler))
    (r,) = result.results
    assert calls == 30 and peak == 4 and markers == {"r:0"}
    assert len(r.latencies_ns) == 27 and r.latencies_ns == tuple(sorted(r.latencies_ns))
    assert dict(r.statuses) == {200: 23, 500: 4}
    assert r.errors == 3 + 4 and r.error_samples


def test_format_probe_table() -> None:
    rows = tuple(
        UrlResult(
            f"http://127.0.0.1:8000/{name}/?ms=50",
            i,
            4,
            2,
            200 * MS,
            tuple(v * MS for v in lat),
            ((200, 4),),
            0,
        )
        for i, (name, lat) in enumerate((("sync", (60, 70, 80, 150)), ("async", (55, 60, 60, 65))))
    )
    text = format_probe(ProbeResult("abc", 4, 2, rows), bins=4)
    lines = text.splitlines()
    assert lines[0] == "probe abc: 4 requests per URL, concurrency 2"
    assert lines[1].split() == ["/sync/?ms=50", "/async/?ms=50"]
    assert lines[2].split() == ["client:", "requests/s", "20.0", "20.0"]
    assert "client: p50" in text and "75.0 ms" in text and "latency histogram" in text
    assert "server:" not in text  # no events attached
    assert LEGEND_CLIENT in lines
    assert all(line == line.rstrip() for line in lines)


def test_no_successful_request_shows_no_rate_or_latency_and_says_so() -> None:
    refused = UrlResult(
        "http://127.0.0.1:9/", 0, 20, 5, 170 * MS, (), (), 20, ("ConnectError: refused",)
    )
    all_404 = UrlResult("http://127.0.0.1:9/x/", 1, 2, 1, 10 * MS, (4 * MS, 5 * MS), ((404, 2),), 0)
    text = format_probe(ProbeResult("abc", 20, 5, (refused, all_404)), bins=4)
    rows = {line.split("  ")[0].strip(): line.split()[2:] for line in text.splitlines()[2:9]}
    assert rows["client: requests/s"] == ["-", "200.0"]
    assert rows["client: p50"] == ["-", "4.5", "ms"]
    assert "no successful request to /x/ (2 x HTTP 404)" in text
    assert "no successful request to / (ConnectError: refused)" in text
