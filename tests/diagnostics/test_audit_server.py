"""The middleware audit against the real demo server: it lists a sync-only middleware added by a
test settings module, and its predicted hops match the ``sync_hops`` the requests report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import launch

SYNC_ONLY_MW = '''
class SyncOnlyMiddleware:
    """No async support declared: Django's defaults are sync_capable=True, async_capable=False."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
'''

PATH = "audit_mw.SyncOnlyMiddleware"


def write_settings(folder: Path) -> None:
    (folder / "audit_mw.py").write_text(SYNC_ONLY_MW)
    for name, middleware in {
        "audit_first": f'["{PATH}", *MIDDLEWARE]',
        "audit_last": f'[*MIDDLEWARE, "{PATH}"]',
    }.items():
        (folder / f"{name}.py").write_text(
            "from demosite.settings import *  # noqa: F403\n\n"
            f"MIDDLEWARE = {middleware}  # noqa: F405\n"
        )


async def audit_and_hops(tmp_path: Path, *settings: str) -> tuple[dict[str, Any], list[int]]:
    """Start the demo (optionally with test settings): the audit, and /async/'s sync_hops."""
    run = await launch(
        str(DEMO_DIR),
        *settings,
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"), "PYTHONPATH": str(tmp_path)},
    )
    try:
        url = (await run.wait_event("server-started", timeout=30))["url"]
        audit = await run.wait_event("middleware-audit", timeout=30)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            for _ in range(3):
                assert (await client.get("/async/?ms=0")).status_code == 200
        hops = [(await run.wait_event("request", path="/async/"))["sync_hops"] for _ in range(3)]
    finally:
        await run.stop()
    return audit, hops


async def test_audit_lists_sync_only_middleware_and_counts_its_hops(tmp_path: Path) -> None:
    write_settings(tmp_path)
    base_audit, base_hops = await audit_and_hops(tmp_path)
    first_audit, first_hops = await audit_and_hops(tmp_path, "--settings", "audit_first")
    last_audit, last_hops = await audit_and_hops(tmp_path, "--settings", "audit_last")

    # The demo as shipped: every entry can run async, nothing adapted, Django's mixins hop.
    assert all(not adapted for _, _, adapted in base_audit["entries"])
    assert base_audit["hops_per_request"] > 0 and base_audit["switches_per_request"] == 0
    assert base_audit["hop_ns"] and 0 < base_audit["hop_ns"] < 50_000_000
    assert base_audit["cost_ns_per_request"] > 0
    assert len(set(base_hops)) == 1, base_hops

    # Outermost: a sync island of its own, one hop in (and one switch back) on every request.
    entry = first_audit["details"][0]
    assert entry["path"] == PATH and entry["capability"] == "sync" and entry["adapted"]
    assert (entry["hops"], entry["switches"]) == (1, 1)
    assert "async-capable" in entry["fix"]
    assert first_audit["hops_per_request"] == base_audit["hops_per_request"] + 1
    assert first_hops == [h + 1 for h in base_hops]

    # Innermost: it pulls every "both" middleware above it into its thread; the mixins' hops
    # vanish and the whole chain runs in a thread instead. The prediction still matches.
    entry = last_audit["details"][-1]
    assert entry["path"] == PATH and entry["adapted"] and entry["switches"] == 1
    assert all(d["runs_as"] == "sync" for d in last_audit["details"])
    delta = last_audit["hops_per_request"] - base_audit["hops_per_request"]
    assert last_hops == [h + delta for h in base_hops]
