"""Instrumentation through the wrapped demo ASGI app (httpx ASGITransport, no server)."""

from __future__ import annotations

import os

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from asgi_dashboard.events import RequestFinished
from tests.instrument.conftest import Instrumented

V = "demoapp.views."


@pytest.mark.parametrize(
    ("path", "view", "kind", "route"),
    [
        ("/", V + "home", "sync", ""),
        ("/sync/?ms=0", V + "sync_view", "sync", "sync/"),
        ("/async/?ms=0", V + "async_view", "async", "async/"),
        ("/cbv/sync/?ms=0", V + "SyncSleepView", "sync", "cbv/sync/"),
        ("/cbv/async/?ms=0", V + "AsyncSleepView", "async", "cbv/async/"),
        ("/orm/sync/", V + "orm_sync", "sync", "orm/sync/"),
        ("/orm/async/", V + "orm_async", "async", "orm/async/"),
        ("/orm/unsafe/", V + "orm_unsafe", "async", "orm/unsafe/"),
        ("/orm/n-plus-one/", V + "orm_n_plus_one", "sync", "orm/n-plus-one/"),
        ("/api/data1/", "demoapp.api.data1", "async", "api/data1/"),
        ("/template/", V + "template_view", "sync", "template/"),
        ("/error/", V + "error_view", "sync", "error/"),
        ("/blocking/?ms=0", V + "blocking_view", "async", "blocking/"),
        ("/chat/lobby/", V + "chat_room", "sync", "chat/<slug:room>/"),
        ("/admin/login/", "django.contrib.admin.sites.AdminSite.login", "sync", "admin/login/"),
    ],
)
async def test_each_demo_view_is_named_and_kinded(
    instrumented: Instrumented, path: str, view: str, kind: str, route: str
) -> None:
    response, event = await instrumented.get(path)
    assert event.view == view
    assert event.kind == kind
    assert event.route == route
    assert event.status == response.status_code
    assert event.path == path.split("?")[0]
    assert event.view_ns is not None and 0 < event.view_ns <= event.total_ns
    assert (event.thread_wait_ns is not None) == (kind == "sync")
    assert event.response_size == len(response.content)


async def test_unresolved_url_has_no_view(instrumented: Instrumented) -> None:
    response, event = await instrumented.get("/no/such/page/")
    assert response.status_code == 404 == event.status
    assert (event.view, event.kind, event.route, event.view_ns) == (None, None, None, None)


async def test_static_files_are_marked(instrumented: Instrumented) -> None:
    response, event = await instrumented.get("/static/demoapp/demo.css")
    assert response.status_code == 200
    assert event.static and event.view is None


@pytest.mark.parametrize("path", ["/orm/sync/", "/orm/async/", "/orm/n-plus-one/", "/template/"])
async def test_sql_count_matches_capture_queries_context(
    instrumented: Instrumented, path: str
) -> None:
    _, event = await instrumented.get(path)

    def count_with_django() -> int:
        # The same request through Django's test client, counted by Django itself, on a plain
        # thread. The client runs async views under async_to_sync, whose sync_to_async calls
        # come back to this thread, so CaptureQueriesContext sees every query.
        with CaptureQueriesContext(connection) as ctx:
            assert Client(HTTP_HOST="127.0.0.1").get(path).status_code == 200
        return len(ctx.captured_queries)

    expected = await sync_to_async(count_with_django, thread_sensitive=False)()
    assert event.sql_count == expected > 0
    assert len(event.sql) == event.sql_count
    assert event.sql_ns > 0 and all(q.duration_ns > 0 for q in event.sql)


async def test_n_plus_one_shows_repeated_statements(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/orm/n-plus-one/")
    from demoapp.models import Item

    items = await Item.objects.acount()
    assert event.sql_count == items + 1
    repeated = [q.sql for q in event.sql[1:]]
    assert len(set(repeated)) == 1  # the same statement N times: the N+1 signature


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/sync/", "sync"), ("/async/", "async"), ("/cbv/sync/", "sync"), ("/cbv/async/", "async")],
)
async def test_view_time_is_the_sleep(instrumented: Instrumented, path: str, kind: str) -> None:
    _, event = await instrumented.get(path + "?ms=60")
    assert event.kind == kind
    assert event.view_ns is not None
    # The view alone: at least the sleep, and within a few ms of it (2 cores, loaded CI: 15 ms).
    assert 60_000_000 <= event.view_ns < 75_000_000
    assert event.total_ns >= event.view_ns


async def test_template_time_is_measured(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/template/")
    assert event.template_ns is not None and event.template_ns > 0
    # A TemplateResponse is rendered by Django's handler after the view returned.
    assert event.template_in_view_ns == 0
    assert "<" in event.response_body  # HTML preview


async def test_render_inside_the_view_is_part_of_the_view(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/")  # the home view calls render()
    assert event.template_ns is not None and event.template_ns > 0
    assert event.template_in_view_ns == event.template_ns
    assert event.view_ns is not None and event.view_ns >= event.template_ns


async def test_view_that_raises_carries_the_exception(instrumented: Instrumented) -> None:
    response, event = await instrumented.get("/error/")
    assert response.status_code == 500 == event.status
    assert event.error is not None
    assert event.error.type == "RuntimeError"
    assert "Deliberate" in event.error.message
    assert event.error.frame is not None
    assert event.error.frame.filename.endswith(os.path.join("demoapp", "views.py"))
    assert "raise RuntimeError" in event.error.frame.line
    assert "Traceback" in event.error.traceback


async def test_synchronous_only_operation_is_explained(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/orm/unsafe/")
    assert event.status == 500
    assert event.error is not None
    assert event.error.type == "django.core.exceptions.SynchronousOnlyOperation"
    assert event.error.hint is not None and "sync_to_async" in event.error.hint
    frame = event.error.frame
    assert frame is not None and frame.filename.endswith(os.path.join("demoapp", "views.py"))
    assert "objects" in frame.line  # the ORM call in the async view


async def test_request_and_response_details(instrumented: Instrumented) -> None:
    response, event = await instrumented.get(
        "/sync/?ms=0", headers={"Authorization": "Bearer x", "X-Test": "1"}
    )
    headers = dict(event.request_headers)
    assert headers["x-test"] == "1" and headers["authorization"] == "Bearer x"
    response_headers = {k.lower(): v for k, v in event.response_headers}
    assert response_headers["content-type"] == "application/json"
    assert event.response_body == response.text and not event.response_body_b64
    assert event.query == "ms=0" and event.method == "GET"
    assert event.sync_hops >= 1  # at least the hop to the view's thread


async def test_one_event_per_request_with_unique_ids(instrumented: Instrumented) -> None:
    for _ in range(5):
        await instrumented.get("/async/?ms=0")
    ids = [e.id for e in instrumented.sink.of(RequestFinished)]
    assert len(ids) == len(set(ids)) == 5


async def test_tracebacks_leave_out_our_own_wrapper_frames(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/error/")
    assert event.error is not None
    # The demo's own files live in asgi_dashboard/demo/: those frames are the project's.
    assert "asgi_dashboard/" not in event.error.traceback.replace("asgi_dashboard/demo/", "")
    assert "demoapp/views.py" in event.error.traceback
