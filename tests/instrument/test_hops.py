"""The thread-hop timeline (instrument/hops.py) through the demo's instrumented ASGI app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from asgi_dashboard.events import Hop, RequestFinished, decode, encode
from asgi_dashboard.instrument import InstrumentedApp
from asgi_dashboard.instrument.hops import MAX_HOPS, hop_events
from asgi_dashboard.instrument.records import RequestRecord, current
from tests.conftest import DEMO_DIR
from tests.instrument.conftest import Instrumented

DEMO_HOPS = DEMO_DIR / "demoapp" / "hops.py"


def _line_of(text: str) -> int:
    """The line of ``DEMO_HOPS`` that contains ``text`` (once)."""
    lines = [n for n, line in enumerate(DEMO_HOPS.read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, lines
    return lines[0]


def _one(event: RequestFinished, cause: str) -> Hop:
    found = [h for h in event.hops if h.cause == cause]
    assert len(found) == 1, [h.cause for h in event.hops]
    return found[0]


def _consistent(event: RequestFinished) -> None:
    assert len(event.hops) == event.sync_hops
    for hop in event.hops:
        assert hop.thread and hop.thread != "MainThread", hop
        assert 0 <= hop.submitted_ns <= hop.started_ns
        assert hop.wait_ns == hop.started_ns - hop.submitted_ns and hop.run_ns > 0
        assert hop.started_ns + hop.run_ns <= event.total_ns
    submitted = [h.submitted_ns for h in event.hops]
    assert submitted == sorted(submitted), "hops are in call order"


async def test_hops_page_shows_the_sync_middleware_and_the_project_calls(
    instrumented: Instrumented,
) -> None:
    response, event = await instrumented.get("/hops/?ms=30")
    assert response.status_code == 200 and event.view == "demoapp.hops.hops_page"
    _consistent(event)
    causes = [h.cause for h in event.hops]
    kinds = {h.cause: h.cause_kind for h in event.hops}
    assert kinds[causes[0]] == "signal" and causes[0].startswith("request_started: ")
    legacy = _one(event, "demoapp.hops.LegacyHeaderMiddleware")
    slow = _one(event, "demoapp.hops._slow_lookup")
    count = _one(event, "demoapp.hops._count_items")
    assert (legacy.cause_kind, slow.cause_kind, count.cause_kind) == (
        "middleware",
        "project",
        "project",
    )
    # Django's own MiddlewareMixin classes hop for process_request/process_response.
    assert "django.contrib.sessions.middleware.SessionMiddleware.process_request" in causes
    order = [causes.index(c) for c in (legacy.cause, slow.cause, count.cause)]
    assert order == sorted(order)
    assert causes.index("django.contrib.sessions.middleware.SessionMiddleware.process_response") > (
        causes.index(count.cause)
    )
    # The project's sync_to_async calls: their lines in demoapp/hops.py.
    assert slow.source is not None and count.source is not None
    assert Path(slow.source.filename) == DEMO_HOPS and slow.source.lineno == _line_of(
        "sync_to_async(_slow_lookup)"
    )
    assert count.source.lineno == _line_of("sync_to_async(_count_items)")
    # Both ran inside the middleware's hop, on the request's one thread-sensitive thread (the
    # middleware's thread, waiting in async_to_sync), and the second waited for the first.
    assert legacy.started_ns <= slow.submitted_ns
    assert count.started_ns + count.run_ns <= legacy.started_ns + legacy.run_ns
    assert {h.thread for h in event.hops} == {legacy.thread}
    assert slow.run_ns >= 30_000_000
    assert count.started_ns >= slow.started_ns + slow.run_ns
    assert count.wait_ns >= 30_000_000 > slow.wait_ns
    assert response.headers["X-Legacy-Thread"] == legacy.thread


async def test_a_sync_view_has_one_view_hop(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/sync/?ms=5")
    _consistent(event)
    views = [h for h in event.hops if h.cause_kind == "view"]
    assert len(views) == 1 and views[0].cause == event.view == "demoapp.views.sync_view"
    assert views[0].run_ns >= 5_000_000
    # thread_wait_ns starts before Django's sync_to_async call and ends inside the hop's run.
    assert event.thread_wait_ns is not None and event.thread_wait_ns >= views[0].wait_ns


async def test_an_async_view_has_no_view_hop(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/async/?ms=0")
    _consistent(event)
    assert event.kind == "async" and not [h for h in event.hops if h.cause_kind == "view"]


async def test_no_sync_middleware_leaves_only_the_signal_and_close_hops(
    instrumented: Instrumented,
) -> None:
    """Without middleware, an async view's request hops only for the sync receivers of
    ``request_started`` and for ``response.close()`` (which sends ``request_finished``)."""
    with override_settings(MIDDLEWARE=[]):
        handler = ASGIHandler()
    bare = Instrumented(
        InstrumentedApp(handler, instrumented.sink, generation=1), instrumented.sink
    )
    _, event = await bare.get("/async/?ms=0")
    _consistent(event)
    assert [h.cause_kind for h in event.hops] == ["signal", "other"]
    assert event.hops[1].cause == "django.http.response.JsonResponse.close"


async def test_concurrent_sync_views_do_not_queue_behind_each_other(
    instrumented: Instrumented,
) -> None:
    """Django's ASGIHandler gives each request its own thread-sensitive thread
    (``ThreadSensitiveContext``): a slow sync view does not delay another request's."""
    transport = httpx.ASGITransport(app=instrumented.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        responses = await asyncio.wait_for(
            asyncio.gather(client.get("/sync/?ms=300"), client.get("/sync/?ms=0")), 20
        )
    assert [r.status_code for r in responses] == [200, 200]
    events = {e.query: e for e in instrumented.sink.of(RequestFinished)}
    slow, fast = events["ms=300"], events["ms=0"]
    slow_view = next(h for h in slow.hops if h.cause_kind == "view")
    fast_view = next(h for h in fast.hops if h.cause_kind == "view")
    assert slow_view.thread != fast_view.thread
    assert fast_view.wait_ns < 150_000_000 and fast.total_ns < slow.total_ns


async def test_hops_beyond_the_bound_are_counted_not_kept(loaded: object) -> None:
    rec = RequestRecord(start_ns=0)
    token = current.set(rec)
    try:
        for _ in range(MAX_HOPS + 6):
            await asyncio.wait_for(sync_to_async(len)("abc"), 10)
    finally:
        current.reset(token)
    assert rec.sync_hops == MAX_HOPS + 6 and len(rec.hops) == MAX_HOPS
    hops = hop_events(rec)
    assert len(hops) == MAX_HOPS and all(h.cause == "builtins.len" for h in hops)
    assert all(h.cause_kind == "other" and h.thread and h.run_ns > 0 for h in hops)


async def test_hops_in_the_json_event(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/hops/?ms=0")
    line = encode(event)
    data = json.loads(line)
    causes = [h["cause"] for h in data["hops"]]
    assert "demoapp.hops.LegacyHeaderMiddleware" in causes
    project = next(h for h in data["hops"] if h["cause"] == "demoapp.hops._slow_lookup")
    assert project["cause_kind"] == "project" and project["source"]["lineno"] > 0
    assert decode(line) == event


@pytest.mark.parametrize("path", ["/orm/async/", "/template/"])
async def test_every_demo_request_keeps_count_and_timeline_equal(
    instrumented: Instrumented, path: str
) -> None:
    _, event = await instrumented.get(path)
    _consistent(event)
