"""``RequestFinished.user``: who the request came in as, read without loading the user.

Through the demo's instrumented ASGI app: anonymous requests, a login (the request itself came in
anonymous), the admin as the demo user, a view that never reads ``request.user`` (no user, and no
extra query to find one), and a logout (it came in as the demo user).
"""

from __future__ import annotations

import asyncio

import httpx

from asgi_dashboard.events import RequestFinished
from tests.instrument.conftest import Instrumented


async def test_user_is_who_the_request_came_in_as(instrumented: Instrumented) -> None:
    transport = httpx.ASGITransport(app=instrumented.app)

    def last() -> RequestFinished:
        return instrumented.sink.of(RequestFinished)[-1]

    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

        async def call(method: str, path: str, **kw: object) -> httpx.Response:
            return await asyncio.wait_for(client.request(method, path, **kw), 30)  # type: ignore[arg-type]

        await call("GET", "/admin/login/")
        assert last().user is None
        token = client.cookies["csrftoken"]
        form = {"csrfmiddlewaretoken": token, "username": "demo", "password": "demo"}
        assert (await call("POST", "/admin/login/", data=form)).status_code == 302
        assert last().user is None  # login() replaced request.user; it came in anonymous
        assert (await call("GET", "/admin/")).status_code == 200
        assert last().user == "demo"
        assert (await call("GET", "/orm/sync/")).status_code == 200
        event = last()
        assert event.user is None  # the view never read request.user: not loaded for us
        assert not any("auth_user" in q.sql for q in event.sql)
        token = client.cookies["csrftoken"]
        logout = await call("POST", "/admin/logout/", data={"csrfmiddlewaretoken": token})
        assert logout.status_code == 200
        assert last().user == "demo"
