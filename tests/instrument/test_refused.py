"""Requests answered before the view ran keep their view, and say which middleware answered.

Through the instrumented demo application (real Django handler, real middleware), plus one run
on a real server (``asgi-dash --headless --json``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import override_settings

from asgi_dashboard.events import RequestFinished
from asgi_dashboard.instrument import InstrumentedApp
from asgi_dashboard.runtime.bootstrap import LoadedProject
from tests.conftest import DEMO_DIR
from tests.instrument.conftest import Instrumented, ListSink

CSRF = "django.middleware.csrf.CsrfViewMiddleware"
MW = "tests.instrument.refusing_middleware."

#: The instrumented refusing chain and the list its events land in.
Refusing = tuple[InstrumentedApp, ListSink]


async def send(
    app: InstrumentedApp, sink: ListSink, method: str, path: str, **kwargs: Any
) -> tuple[httpx.Response, RequestFinished]:
    before = len(sink.of(RequestFinished))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await asyncio.wait_for(client.request(method, path, **kwargs), 10)
    finished = sink.of(RequestFinished)
    assert len(finished) == before + 1
    return response, finished[-1]


# -- the demo as configured (CsrfViewMiddleware among its middleware) --------------------------


@pytest.mark.parametrize(
    ("path", "view", "route", "url_name"),
    [
        ("/sync/", "demoapp.views.sync_view", "sync/", "sync"),
        ("/async/", "demoapp.views.async_view", "async/", "async"),
        ("/admin/login/", "django.contrib.admin.sites.AdminSite.login", "admin/login/", "login"),
    ],
)
async def test_csrf_refused_post_keeps_its_view(
    instrumented: Instrumented, path: str, view: str, route: str, url_name: str
) -> None:
    response, event = await send(instrumented.app, instrumented.sink, "POST", path)
    assert response.status_code == 403 == event.status
    assert (event.view, event.route, event.url_name) == (view, route, url_name)
    assert event.answered_by == CSRF
    assert event.kind == ("async" if path == "/async/" else "sync")
    assert event.view_ns is None and event.thread_wait_ns is None
    assert event.error is None


async def test_post_with_a_csrf_token_runs_the_view(instrumented: Instrumented) -> None:
    app, sink = instrumented.app, instrumented.sink
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        page = await asyncio.wait_for(client.get("/admin/login/"), 10)
        token = client.cookies["csrftoken"]
        response = await asyncio.wait_for(
            client.post(
                "/admin/login/",
                data={"csrfmiddlewaretoken": token, "username": "x", "password": "y"},
                headers={"Referer": "http://127.0.0.1/admin/login/"},
            ),
            10,
        )
    assert page.status_code == 200 and response.status_code == 200  # the form, with an error
    event = sink.of(RequestFinished)[-1]
    assert event.method == "POST" and event.answered_by is None
    assert event.view == "django.contrib.admin.sites.AdminSite.login"
    assert event.view_ns is not None


@pytest.mark.parametrize("path", ["/sync/?ms=0", "/async/?ms=0", "/cbv/async/?ms=0", "/error/"])
async def test_normal_requests_are_answered_by_nobody(
    instrumented: Instrumented, path: str
) -> None:
    _, event = await instrumented.get(path)
    assert event.answered_by is None and event.view_ns is not None


async def test_a_real_404_has_no_view_and_no_answerer(instrumented: Instrumented) -> None:
    for method in ("GET", "POST"):
        response, event = await send(instrumented.app, instrumented.sink, method, "/no/such/")
        assert response.status_code == 404
        assert (event.view, event.kind, event.route, event.answered_by) == (None,) * 4


async def test_static_files_have_no_answerer(instrumented: Instrumented) -> None:
    _, event = await instrumented.get("/static/demoapp/demo.css")
    assert event.static and event.answered_by is None


async def test_django_failing_before_the_view_is_not_a_middleware_answer(
    instrumented: Instrumented,
) -> None:
    """``make_view_atomic`` raises for an async view under ATOMIC_REQUESTS (a 500 from Django
    itself, after every process_view passed): the view is named, nobody "answered"."""
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    before = settings_dict["ATOMIC_REQUESTS"]
    settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response, event = await instrumented.get("/async/?ms=0")
    finally:
        settings_dict["ATOMIC_REQUESTS"] = before
    assert response.status_code == 500
    assert (event.view, event.kind, event.answered_by) == (
        "demoapp.views.async_view",
        "async",
        None,
    )


# -- middleware answering in __call__ / process_request / process_view --------------------------


@pytest.fixture(scope="module")
def refusing_handler(loaded: LoadedProject) -> ASGIHandler:
    """The demo's handler with the test middleware around CsrfViewMiddleware."""
    from django.conf import settings

    chain = list(settings.MIDDLEWARE)
    at = chain.index(CSRF)
    chain[at:at] = [
        MW + "UrlconfSwitch",
        MW + "AsyncEarlyAnswer",
        MW + "function_early_answer",
        MW + "SyncOnlyEarlyAnswer",
        MW + "ProcessRequestAnswer",
        MW + "ProcessViewAnswer",
    ]
    with override_settings(MIDDLEWARE=chain):
        return ASGIHandler()  # load_middleware reads settings.MIDDLEWARE now


@pytest.fixture
async def refusing(
    refusing_handler: ASGIHandler,
) -> AsyncIterator[Refusing]:
    sink = ListSink()
    yield InstrumentedApp(refusing_handler, sink, generation=1, project_dir=str(DEMO_DIR)), sink


@pytest.mark.parametrize(
    ("how", "status", "answered_by"),
    [
        ("async-call", 401, MW + "AsyncEarlyAnswer"),
        ("function", 401, MW + "function_early_answer"),
        ("sync-call", 429, MW + "SyncOnlyEarlyAnswer"),
        ("process-request", 302, MW + "ProcessRequestAnswer"),
        ("process-view", 403, MW + "ProcessViewAnswer"),
    ],
)
@pytest.mark.parametrize(
    ("path", "view", "kind"),
    [
        ("/sync/?ms=0", "demoapp.views.sync_view", "sync"),
        ("/cbv/async/?ms=0", "demoapp.views.AsyncSleepView", "async"),
    ],
)
async def test_middleware_answer_keeps_the_view_and_names_the_middleware(
    refusing: Refusing, how: str, status: int, answered_by: str, path: str, view: str, kind: str
) -> None:
    app, sink = refusing
    response, event = await send(app, sink, "GET", path, headers={"X-Refuse": how})
    assert response.status_code == status == event.status
    assert (event.view, event.kind, event.answered_by) == (view, kind, answered_by)
    assert event.route == path.split("?")[0].lstrip("/")
    assert event.view_ns is None


async def test_the_same_chain_serves_normal_requests(refusing: Refusing) -> None:
    app, sink = refusing
    for path, view in [("/sync/?ms=0", "demoapp.views.sync_view"), ("/nope/", None)]:
        _, event = await send(app, sink, "GET", path)
        assert event.view == view and event.answered_by is None
    _, event = await send(app, sink, "POST", "/sync/")
    assert event.answered_by == CSRF and event.view == "demoapp.views.sync_view"


async def test_unresolvable_path_answered_early_has_the_answerer_but_no_view(
    refusing: Refusing,
) -> None:
    app, sink = refusing
    _, event = await send(app, sink, "GET", "/no/such/", headers={"X-Refuse": "async-call"})
    assert (event.view, event.route, event.kind) == (None, None, None)
    assert event.answered_by == MW + "AsyncEarlyAnswer"


async def test_early_answer_is_resolved_with_the_requests_urlconf(refusing: Refusing) -> None:
    app, sink = refusing
    headers = {"X-Refuse": "async-call", "X-Urlconf": "tests.unit.naming_urls"}
    _, event = await send(app, sink, "POST", "/drf/function/", headers=headers)
    assert event.view == "tests.unit.naming_urls.drf_function"
    assert event.route == "drf/function/" and event.url_name == "drf-function"
    assert event.answered_by == MW + "AsyncEarlyAnswer"


async def test_a_client_gone_inside_a_middleware_was_answered_by_nobody(refusing: Refusing) -> None:
    """The client disconnects while a middleware is still working: Django drops the request
    (``ASGIHandler.handle`` cancels it, no response): no view, no answerer."""
    from tests.instrument import refusing_middleware

    app, sink = refusing
    entered = refusing_middleware.HANGING["entered"] = asyncio.Event()
    gone = asyncio.Event()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/sync/",
        "raw_path": b"/sync/",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"x-refuse", b"hang")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[MutableMapping[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if received == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    task = asyncio.create_task(app(scope, receive, send))
    try:
        await asyncio.wait_for(entered.wait(), 10)
        gone.set()
        await asyncio.wait_for(task, 10)
    finally:
        refusing_middleware.HANGING.clear()
        task.cancel()
    assert sent == []
    event = sink.of(RequestFinished)[-1]
    assert (event.status, event.view, event.answered_by, event.view_ns) == (0, None, None, None)


async def test_a_chain_that_cannot_be_followed_never_names_the_wrong_middleware(
    loaded: LoadedProject,
) -> None:
    from django.conf import settings

    chain = list(settings.MIDDLEWARE)
    chain[1:1] = [MW + "OpaqueChain", MW + "AsyncEarlyAnswer"]
    with override_settings(MIDDLEWARE=chain):
        handler = ASGIHandler()
    sink = ListSink()
    app = InstrumentedApp(handler, sink, generation=1, project_dir=str(DEMO_DIR))
    _, event = await send(app, sink, "GET", "/sync/?ms=0", headers={"X-Refuse": "async-call"})
    assert event.view == "demoapp.views.sync_view"
    assert event.answered_by == MW + "OpaqueChain (or a middleware after it)"
    _, event = await send(app, sink, "POST", "/sync/")  # process_view entries are still named
    assert event.answered_by == CSRF


# -- a real server -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_csrf_refusal_on_a_real_server(tmp_path: Path) -> None:
    from tests.runtime.conftest import launch

    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        async with httpx.AsyncClient(base_url=started["url"], timeout=10) as client:
            refused = await client.post("/sync/", data={"a": "b"})
            served = await client.get("/sync/?ms=0")
        assert (refused.status_code, served.status_code) == (403, 200)
        first = await run.wait_event("request", timeout=10, path="/sync/", method="POST")
        second = await run.wait_event("request", timeout=10, path="/sync/", method="GET")
        assert first["view"] == "demoapp.views.sync_view" and first["kind"] == "sync"
        assert first["answered_by"] == CSRF and first["view_ns"] is None
        assert second["answered_by"] is None and second["view_ns"] is not None
    finally:
        await run.stop()
