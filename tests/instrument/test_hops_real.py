"""The thread-hop timeline on a real project: a generated Django REST framework project served by
``asgi-dash --headless --json`` (a real server on 127.0.0.1), its events read from stdout."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realprojects.conftest import generate, launch_asgi_dash

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

Event = dict[str, Any]


def _check_timeline(event: Event, view: str) -> None:
    hops = event["hops"]
    assert len(hops) == event["sync_hops"] > 0
    kinds = [h["cause_kind"] for h in hops]
    assert kinds[0] == "signal" and hops[0]["cause"].startswith("request_started: ")
    assert [h["cause"] for h in hops if h["cause_kind"] == "view"] == [view]
    assert "django.contrib.sessions.middleware.SessionMiddleware.process_request" in [
        h["cause"] for h in hops
    ]
    assert kinds[-1] == "other" and hops[-1]["cause"].endswith(".close")
    for hop in hops:
        assert hop["thread"] and hop["run_ns"] > 0 and hop["wait_ns"] >= 0
        assert hop["submitted_ns"] <= hop["started_ns"] <= event["total_ns"]


async def test_drf_project_requests_carry_their_hops(tmp_path: Path) -> None:
    project = await asyncio.to_thread(generate, "drf", tmp_path)
    run = await launch_asgi_dash(project.root)
    try:
        started = await run.wait_event("server-started", timeout=60)
        async with httpx.AsyncClient(base_url=started["url"], timeout=30) as client:
            ping = await client.get("/api/ping/")
            items = await client.get("/api/items/")
        assert (ping.status_code, items.status_code) == (200, 200)
        ping_event = await run.wait_event("request", timeout=30, path="/api/ping/")
        items_event = await run.wait_event("request", timeout=30, path="/api/items/")
    finally:
        if run.process.returncode is None:
            await run.stop()
    _check_timeline(ping_event, "shop.views.ping")
    _check_timeline(items_event, "shop.views.ItemViewSet.list")
