"""Snapshots of the request log's everyday states at 160x48 and 80x24: the main screen, an
invalid filter, the empty log (demo), and the light theme. Same factory and pinned clock as
test_snapshots.py; update with ``--snapshot-update`` after looking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from asgi_dashboard.app import DashboardApp, make_app
from tests.ui.scripted import T0, main_script, make_config, scripted_factory, started
from tests.ui.test_snapshots import press, then

SIZES = {"wide": (160, 48), "small": (80, 24)}


def build(*, empty: bool = False) -> DashboardApp:
    script = [started()] if empty else main_script()
    app = make_app(make_config(is_demo=empty), scripted_factory(script))
    app.clock = lambda: T0 + 125
    return app


def light() -> Callable[[Pilot[object]], Awaitable[None]]:
    async def step(pilot: Pilot[object]) -> None:
        pilot.app.theme = "textual-light"
        await pilot.pause()

    return step


@pytest.mark.parametrize("size", SIZES)
def test_log_main(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(), terminal_size=SIZES[size], run_before=then())


@pytest.mark.parametrize("size", SIZES)
def test_log_invalid_filter(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    steps = then(press("slash", *"error", "space", *"status:abc"))
    assert snap_compare(build(), terminal_size=SIZES[size], run_before=steps)


@pytest.mark.parametrize("size", SIZES)
def test_log_empty_demo(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(empty=True), terminal_size=SIZES[size], run_before=then())


@pytest.mark.parametrize("size", SIZES)
def test_log_light_theme(snap_compare, size: str) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(build(), terminal_size=SIZES[size], run_before=then(light()))
