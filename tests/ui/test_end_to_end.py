"""End to end: the real demo project under the real child runtime, real HTTP requests, and the
rows seen in the running app; quitting stops the server and frees the port."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from asgi_dashboard.app import make_app
from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.runtime import make_runtime
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import wait_for

DEMO = Path(__file__).resolve().parents[2] / "asgi_dashboard" / "demo"


@pytest.mark.timeout(90)
async def test_real_demo_rows_appear_and_quit_frees_the_port() -> None:
    config = DashboardConfig(
        project_dir=DEMO,
        settings_module="demosite.settings",
        settings_source="manage.py",
        port=0,
        reload=False,
        is_demo=True,
    )
    # Passing make_runtime explicitly keeps the CLI's runtime but skips the WebSocket panel's
    # project tools (see make_app), which this test does not need.
    app = make_app(config, make_runtime)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(
            pilot,
            lambda: app.model.status.state == "running",
            timeout=45,
            what="the demo server to start",
        )
        url = app.model.status.url
        assert url
        port = int(url.rsplit(":", 1)[1])
        pid = app.model.status.pid
        assert pid and pid != os.getpid()
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            for path in ("/orm/n-plus-one/", "/api/data1/?x=1", "/nope/"):
                await client.get(path)
        log = app.main_screen.query_one(RequestLog)
        await wait_for(pilot, lambda: log.row_count >= 3, timeout=15, what="three rows")
        rows = {item.entry.path: item for item in log.shown.values()}
        n_plus_one = rows["/orm/n-plus-one/"]
        assert n_plus_one.view == "demoapp.views.orm_n_plus_one"
        assert n_plus_one.badge == "sync" and n_plus_one.sql_count > 5
        assert rows["/api/data1/"].badge == "async"
        assert rows["/nope/"].status == 404 and rows["/nope/"].view is None
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=20, what="the app to quit")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # free again
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # and the server process is gone
