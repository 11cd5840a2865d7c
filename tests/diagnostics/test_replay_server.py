"""Replay after editing a view shows the body diff (real demo server, a private copy edited
between two launches on the same folder; the reload machinery is not needed for this)."""

from __future__ import annotations

from pathlib import Path

import httpx

from asgi_dashboard.diagnostics.replay import REPLAY_HEADER, format_diff, replay
from asgi_dashboard.events import RequestFinished, from_dict
from tests.diagnostics.conftest import copy_demo
from tests.runtime.conftest import HeadlessRun, launch


async def start(project: Path, tmp_path: Path) -> tuple[HeadlessRun, str]:
    run = await launch(
        str(project),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    return run, (await run.wait_event("server-started", timeout=30))["url"]


async def test_replay_after_editing_a_view_shows_the_body_diff(tmp_path: Path) -> None:
    project = copy_demo(tmp_path)
    run, url = await start(project, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            response = await client.get("/async/?ms=0", headers={"x-trace": "keep-me"})
        assert response.status_code == 200
        original = from_dict(await run.wait_event("request", path="/async/", timeout=10))
        assert isinstance(original, RequestFinished)
        # Nothing changed yet: the replay gets the same answer.
        unchanged = await replay(original, url, timeout=10)
        assert unchanged.same, format_diff(unchanged)
    finally:
        await run.stop()

    views = project / "demoapp" / "views.py"
    source = views.read_text()
    assert 'return _slept("async", ms)' in source
    views.write_text(source.replace('return _slept("async", ms)', 'return _slept("edited", ms)'))

    run, url = await start(project, tmp_path)
    try:
        diff = await replay(original, url, timeout=10)
        replayed = await run.wait_event("request", path="/async/", timeout=10)
    finally:
        await run.stop()
    text = format_diff(diff)
    print(text)
    assert not diff.same and not diff.body_same
    assert (diff.status_before, diff.status_after) == (200, 200)
    assert '-  "view": "async"' in diff.body_diff
    assert '+  "view": "edited"' in diff.body_diff
    assert diff.size_after == diff.size_before + 1  # "edited" is one byte longer than "async"
    assert [c.name for c in diff.header_changes] == ["content-length"]
    # The replayed request carried the original's headers and the replay marker.
    headers = dict(replayed["request_headers"])
    assert headers["x-trace"] == "keep-me" and headers[REPLAY_HEADER] == original.id
