"""Full garbage collections wait for a moment without input (gc_schedule.settle_gc)."""

from __future__ import annotations

import gc
import time

from asgi_dashboard.gc_schedule import GC_AT_LATEST_S, GC_EVERY_S, GC_QUIET_S
from tests.ui.conftest import settle, wait_for
from tests.ui.test_main_screen import build


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


async def test_full_collections_run_when_the_user_is_not_typing() -> None:
    app = build()
    async with app.run_test() as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: gc.get_threshold()[2] >= 1_000_000, what="settle_gc")
        assert gc.get_freeze_count() > 0  # the start-up heap is out of the collector's sight

        await pilot.press("2")  # input is noticed
        assert time.monotonic() - app.last_input < 5

        now = time.monotonic()
        app.last_full_gc = now - GC_EVERY_S - 1
        app.last_input = now  # typing right now: no full pass
        before = full_collections()
        app.collect_when_quiet()
        assert full_collections() == before

        app.last_input = now - GC_QUIET_S - 0.5  # quiet: it runs, once
        app.collect_when_quiet()
        assert full_collections() == before + 1
        app.collect_when_quiet()
        assert full_collections() == before + 1

        app.last_input = time.monotonic()  # typing for a minute: it runs anyway
        app.last_full_gc = time.monotonic() - GC_AT_LATEST_S - 1
        app.collect_when_quiet()
        assert full_collections() == before + 2
