"""``--no-hops``: the server records no thread-hop timeline; by default it does."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import launch

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("hops_on", [True, False], ids=["default", "no-hops"])
async def test_no_hops_turns_the_timeline_off(tmp_path: Path, hops_on: bool) -> None:
    extra = () if hops_on else ("--no-hops",)
    env = {"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")}
    run = await launch(str(DEMO_DIR), "--port", "0", "--no-reload", *extra, env=env)
    try:
        started = await run.wait_event("server-started", timeout=30)
        async with httpx.AsyncClient(base_url=started["url"], timeout=10) as client:
            assert (await client.get("/hops/")).status_code == 200
        done = await run.wait_for(lambda e: e["event"] == "request" and e["path"] == "/hops/")
        # The page's sync-only middleware and its two sync_to_async calls hop either way
        # (sync_hops counts them); only the timeline is left out.
        assert done["sync_hops"] >= 3
        assert (len(done["hops"]) == done["sync_hops"]) is hops_on
        assert (done["hops"] == []) is not hops_on
    finally:
        await run.stop()
