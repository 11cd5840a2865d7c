"""N+1 through a real server: ``asgi-dash --headless --json`` on the demo (a child process, real
HTTP), the threshold handed to the server process by ``--n-plus-one``, the fix in the JSON line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import HeadlessRun, launch

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


async def _request(run: HeadlessRun, url: str, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        response = await client.get(path)
    assert response.status_code == 200
    return await run.wait_event("request", timeout=20, path=path)


@pytest.mark.parametrize(
    ("threshold", "flagged"),
    [
        ("5", {"/orm/n-plus-one/"}),
        ("3", {"/orm/n-plus-one/", "/orm/categories/"}),
        ("0", set()),
    ],
)
async def test_the_threshold_reaches_the_server_process(
    tmp_path: Path, threshold: str, flagged: set[str]
) -> None:
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        "--n-plus-one",
        threshold,
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=60)
        seen: dict[str, list[dict[str, Any]]] = {}
        for path in ("/orm/n-plus-one/", "/orm/categories/", "/orm/paginated/", "/orm/sync/"):
            seen[path] = (await _request(run, started["url"], path))["n_plus_one"]
    finally:
        if run.process.returncode is None:
            await run.stop()
    assert {path for path, found in seen.items() if found} == flagged
    if "/orm/n-plus-one/" in flagged:
        (found,) = seen["/orm/n-plus-one/"]
        assert found["fix"] == "select_related('category')"
        assert found["queryset_model"] == "demoapp.Item" and found["count"] == 10
        assert found["source"]["filename"].endswith("demoapp/views.py")
