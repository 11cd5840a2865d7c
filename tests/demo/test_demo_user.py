"""The demo's user ``demo`` / ``demo``: created at the first start (and said so once in the
console), able to log in to the admin with its password, and usable by the WebSocket panel's
"log in as user" (a session the chat consumer sees) against a real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Origin

from asgi_dashboard.runtime.tools import SessionCreated, log_in_as
from tests.conftest import DEMO_DIR
from tests.runtime.conftest import HeadlessRun, launch

pytestmark = pytest.mark.slow
ANNOUNCE = "Demo user created: log in as demo / demo"


async def started(database: Path) -> tuple[HeadlessRun, str]:
    """The demo under ``asgi-dash --headless --json`` and its URL."""
    run = await launch(
        str(DEMO_DIR), "--port", "0", "--no-reload", env={"ASGI_DASH_DEMO_DB": str(database)}
    )
    event = await run.wait_event("server-started", timeout=30)
    return run, event["url"]


def announcements(run: HeadlessRun) -> int:
    return sum(e["event"] == "log" and ANNOUNCE in e["message"] for e in run.events)


async def admin_login(url: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        page = await client.get("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None, page.text[:500]
        return await client.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "username": "demo",
                "password": password,
            },
        )


async def test_demo_user_created_once_and_logs_in(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    run, url = await started(database)
    try:
        response = await admin_login(url, "demo")
        assert response.status_code == 302 and response.headers["location"] == "/admin/"
        assert (await admin_login(url, "wrong")).status_code == 200  # the form again

        # The WebSocket panel's "log in as user": a session the chat consumer reads.
        session = await log_in_as(
            "demo",
            project_dir=str(DEMO_DIR),
            settings_module="demosite.settings",
            env={"ASGI_DASH_DEMO_DB": str(database)},
        )
        assert isinstance(session, SessionCreated), session
        assert session.user == "demo" and not session.created_user
        async with connect(
            url.replace("http", "ws") + "/ws/chat/demo-user/",
            origin=Origin("http://127.0.0.1"),
            additional_headers={"Cookie": f"{session.cookie_name}={session.cookie_value}"},
            open_timeout=10,
        ) as ws:
            await ws.send(json.dumps({"message": "hi"}))
            reply = json.loads(await ws.recv(decode=True))
        assert reply == {"message": "hi", "user": "demo", "room": "demo-user"}
    finally:
        await run.stop()  # reads every remaining event
    assert announcements(run) == 1

    # The second start of the same database creates nothing and says nothing.
    run, url = await started(database)
    try:
        assert (await admin_login(url, "demo")).status_code == 302
    finally:
        await run.stop()
    assert announcements(run) == 0
