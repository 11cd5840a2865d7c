"""The demo's HTTP views, driven in-process through its real ASGI application.

``demosite.asgi`` is imported as asgi-dash imports it: that runs ``django.setup()`` and migrates
the session's temporary database (see tests/conftest.py), so these tests also prove the demo
needs no manual ``migrate``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

# Importing the ASGI module sets up Django and migrates, so it must precede model imports.
from demosite.asgi import application

# isort: split
from demoapp.middleware import TimingMiddleware
from demoapp.models import Item
from django.contrib.staticfiles import finders
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

SERVER_TIMING = re.compile(r"app;dur=\d+(\.\d+)?")
SEEDED_ITEMS = 10


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", timeout=10
    ) as http:
        yield http


@pytest.mark.parametrize(
    ("path", "view", "on_loop"),
    [
        ("/sync/", "sync", False),
        ("/async/", "async", True),
        ("/cbv/sync/", "cbv-sync", False),
        ("/cbv/async/", "cbv-async", True),
        ("/blocking/", "blocking", True),
    ],
)
async def test_sleep_views_report_their_thread(
    client: httpx.AsyncClient, path: str, view: str, on_loop: bool
) -> None:
    response = await client.get(path, params={"ms": 0})
    assert response.status_code == 200
    body = response.json()
    assert body["view"] == view
    assert body["slept_ms"] == 0
    # Async views run on the event loop's thread; Django sends sync views to a worker thread.
    assert (body["thread"] == "MainThread") is on_loop
    assert SERVER_TIMING.fullmatch(response.headers["server-timing"])


@pytest.mark.parametrize("ms", ["x", "-1", "600000"])
async def test_bad_sleep_parameter_is_a_400(client: httpx.AsyncClient, ms: str) -> None:
    response = await client.get("/async/", params={"ms": ms})
    assert response.status_code == 400
    assert "ms must be" in response.json()["error"]


async def test_async_views_wait_concurrently(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    responses = await asyncio.wait_for(
        asyncio.gather(*(client.get("/async/", params={"ms": 200}) for _ in range(5))), 10
    )
    elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for r in responses)
    # Five 200 ms sleeps overlap: far less than the 1 s they would take one after another.
    assert elapsed < 0.8


async def test_blocking_view_serialises_the_event_loop(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    responses = await asyncio.wait_for(
        asyncio.gather(*(client.get("/blocking/", params={"ms": 100}) for _ in range(3))), 10
    )
    elapsed = time.perf_counter() - started
    assert all(r.status_code == 200 for r in responses)
    # time.sleep on the loop blocks everything: three 100 ms requests cannot overlap.
    assert elapsed >= 0.3


async def test_home_lists_every_demo_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    for path in (
        "/sync/", "/async/", "/cbv/sync/", "/cbv/async/", "/orm/sync/", "/orm/async/",
        "/orm/unsafe/", "/orm/n-plus-one/", "/fanout/", "/api/data1/", "/api/data2/",
        "/template/", "/error/", "/blocking/", "/chat/", "/admin/", "/ws/echo/", "/ws/chat/",
    ):  # fmt: skip
        assert path in response.text, path


async def test_orm_sync_lists_seeded_items(client: httpx.AsyncClient) -> None:
    response = await client.get("/orm/sync/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == SEEDED_ITEMS == len(body["items"])
    assert set(body["items"][0]) == {"id", "name", "price", "category"}


async def test_orm_async_uses_async_orm_and_sync_to_async(client: httpx.AsyncClient) -> None:
    response = await client.get("/orm/async/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == SEEDED_ITEMS == len(body["items"])
    assert body["first_category"] == body["items"][0]["category"]
    assert sum(body["items_per_category"].values()) == SEEDED_ITEMS
    assert len(body["items_per_category"]) == 3


async def test_orm_unsafe_is_a_500_from_synchronous_only_operation(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/orm/unsafe/")
    assert response.status_code == 500
    # DEBUG is on, so Django's technical 500 page names the exception.
    assert "SynchronousOnlyOperation" in response.text
    assert SERVER_TIMING.fullmatch(response.headers["server-timing"])


async def test_orm_n_plus_one_reports_its_query_count(client: httpx.AsyncClient) -> None:
    response = await client.get("/orm/n-plus-one/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == SEEDED_ITEMS
    assert body["queries"] == SEEDED_ITEMS + 1


def test_orm_n_plus_one_issues_one_query_per_item() -> None:
    # Through Django's sync test client, so the view's queries run on this thread's connection
    # and CaptureQueriesContext sees them (under ASGI they would run on a worker thread).
    django_client = Client(HTTP_HOST="127.0.0.1")
    try:
        with CaptureQueriesContext(connection) as slow:
            assert django_client.get("/orm/n-plus-one/").status_code == 200
        with CaptureQueriesContext(connection) as fixed:
            assert django_client.get("/orm/sync/").status_code == 200
        items = Item.objects.count()
    finally:
        connections.close_all()
    category_lookups = [q for q in slow.captured_queries if 'FROM "demoapp_category"' in q["sql"]]
    assert len(category_lookups) == items
    assert len(slow) == items + 1
    # The fix (select_related) needs a single JOINed query.
    assert len(fixed) == 1


async def test_template_view_renders_items(client: httpx.AsyncClient) -> None:
    response = await client.get("/template/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Two Scoops of Django" in response.text
    assert "Stickers" in response.text


async def test_error_view_is_a_500_with_the_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/error/")
    assert response.status_code == 500
    assert "Deliberate error to show tracebacks in asgi-dash" in response.text


async def test_api_endpoints(client: httpx.AsyncClient) -> None:
    one, two = await asyncio.gather(client.get("/api/data1/"), client.get("/api/data2/"))
    assert one.json()["source"] == "data1"
    assert two.json()["source"] == "data2"


async def test_chat_page_points_at_its_room(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/lobby/")
    assert response.status_code == 200
    assert '"lobby"' in response.text  # json_script payload read by chat.js
    assert "demoapp/chat.js" in response.text


async def test_admin_redirects_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/admin/login/")


def test_static_files_are_found() -> None:
    assert finders.find("demoapp/demo.css")
    assert finders.find("demoapp/chat.js")


def test_timing_middleware_matches_the_chain_mode() -> None:
    from asgiref.sync import iscoroutinefunction

    def sync_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    async def async_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    assert not iscoroutinefunction(TimingMiddleware(sync_response))
    assert iscoroutinefunction(TimingMiddleware(async_response))
    response = TimingMiddleware(sync_response)(HttpRequest())
    assert SERVER_TIMING.fullmatch(response["Server-Timing"])  # type: ignore[index]


# --- /fanout/ -----------------------------------------------------------------------------------


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


async def test_fanout_calls_both_endpoints_on_a_real_server(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /fanout/ makes real outbound HTTP calls, so give it a real server to call: the same demo
    # application under Uvicorn on a loopback port, in this event loop.
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(_until(lambda: server.started), 5)
        monkeypatch.setenv("DEMO_FANOUT_BASE", f"http://127.0.0.1:{port}")
        response = await client.get("/fanout/")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 5)
        sock.close()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["base"] == f"http://127.0.0.1:{port}/"
    assert [call["data"]["source"] for call in body["calls"]] == ["data1", "data2"]
    assert all(call["status"] == 200 for call in body["calls"])
    # data2 sleeps 20 ms, and the total covers both calls.
    assert body["total_ms"] >= max(call["ms"] for call in body["calls"]) >= 20


async def test_fanout_unreachable_base_is_a_502(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bound but non-listening socket: connecting to it is refused at once.
    with _loopback_socket() as sock:
        monkeypatch.setenv("DEMO_FANOUT_BASE", f"http://127.0.0.1:{sock.getsockname()[1]}/")
        response = await client.get("/fanout/")
    assert response.status_code == 502
    assert "DEMO_FANOUT_BASE" in response.json()["hint"]


async def _until(predicate: object) -> None:
    assert callable(predicate)
    while not predicate():
        await asyncio.sleep(0.01)
