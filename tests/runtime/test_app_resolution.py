"""Which ASGI application runs: --app > ASGI_APPLICATION > <project>.asgi > Django's handler."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.runtime.conftest import launch
from tests.runtime.test_bad_input import project

CUSTOM = """
from django.core.asgi import get_asgi_application

django_app = get_asgi_application()

async def application(scope, receive, send):
    # Marks responses so the test can tell which application answered.
    async def marked_send(message):
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"x-app", b"{name}")]
        await send(message)
    await django_app(scope, receive, marked_send)
"""


def with_apps(root: Path, extra: str) -> Path:
    proj = project(
        root, extra=f'ROOT_URLCONF = "proj.urls"\n{extra}', asgi=CUSTOM.format(name="asgi")
    )
    (proj / "proj" / "custom.py").write_text(CUSTOM.format(name="custom"))
    return proj


@pytest.mark.parametrize(
    ("extra", "args", "source", "marker"),
    [
        ("", [], "project asgi.py", "asgi"),
        ('ASGI_APPLICATION = "proj.custom.application"', [], "ASGI_APPLICATION", "custom"),
        (
            'ASGI_APPLICATION = "proj.custom.application"',
            ["--app", "proj.asgi:application"],
            "--app",
            "asgi",
        ),
    ],
    ids=["asgi-py", "setting", "flag"],
)
async def test_application_precedence(
    tmp_path: Path, extra: str, args: list[str], source: str, marker: str
) -> None:
    run = await launch(str(with_apps(tmp_path, extra)), "--port", "0", *args)
    try:
        started = await run.wait_event("server-started", timeout=30)
        assert started["asgi_app_source"] == source
        async with httpx.AsyncClient(base_url=started["url"], timeout=10) as client:
            response = await client.get("/nothing/")
        assert response.headers["x-app"] == marker
    finally:
        assert await run.stop() == 0


async def test_a_crashed_child_is_reported(tmp_path: Path) -> None:
    run = await launch(str(project(tmp_path)), "--port", "0", "--no-reload")
    started = await run.wait_event("server-started", timeout=30)
    os.kill(started["pid"], signal.SIGKILL)  # the server process our asgi-dash started
    stopped = await run.wait_event("server-stopped", timeout=10)
    assert stopped["reason"] == "crashed" and stopped["signal"] == "SIGKILL"
    assert stopped["pid"] == started["pid"]
    # With reloading off there is nothing left to wait for: headless exits with code 1.
    assert await asyncio.wait_for(run.process.wait(), 15) == 1
