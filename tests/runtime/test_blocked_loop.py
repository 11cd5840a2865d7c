"""The blocked-loop detector names the blocking line, every time, and stays quiet otherwise."""

from __future__ import annotations

import asyncio

import httpx

from tests.runtime.conftest import HeadlessRun


async def test_blocking_view_is_reported_with_its_line(
    demo_server: tuple[HeadlessRun, str],
) -> None:
    run, url = demo_server
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for trial in range(3):
            response = await client.get("/blocking/?ms=250")
            assert response.status_code == 200
            blocked = await run.wait_event("loop-blocked", timeout=10)
            assert 200_000_000 <= blocked["duration_ns"] < 1_000_000_000, trial
            frame = blocked["frame"]
            assert frame["filename"].endswith("demoapp/views.py")
            assert frame["function"] == "blocking_view"
            assert "time.sleep(" in frame["line"]
            assert any("/blocking/" in r for r in blocked["in_flight"])


async def test_no_stall_for_correct_async_views_under_load(
    demo_server: tuple[HeadlessRun, str],
) -> None:
    run, url = demo_server
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=url, timeout=20, limits=limits) as client:
        responses = await asyncio.gather(*(client.get("/async/?ms=100") for _ in range(50)))
    assert all(r.status_code == 200 for r in responses)
    # Every request event has arrived (one per request), and none was a blocked loop.
    for _ in range(50):
        await run.wait_event("request", path="/async/")
    assert not [e for e in run.events if e["event"] == "loop-blocked"]
    lag = [e for e in run.events if e["event"] == "loop-lag"]
    assert lag, "a loop-lag sample is reported at start (then only when it changes)"
