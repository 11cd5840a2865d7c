"""Snapshots of the middleware audit screen and the Reloads tab, with fixed data and clock."""

from __future__ import annotations

import dataclasses

from asgi_dashboard.app import DashboardApp, make_app
from asgi_dashboard.events import (
    Event,
    FilesChanged,
    ReloadFinished,
    ReloadWatching,
    ServerStarting,
)
from asgi_dashboard.runtime.reloader import Reloader
from tests.diagnostics.test_screens import AUDIT
from tests.ui.conftest import settle, utc  # noqa: F401 (utc: autouse)
from tests.ui.scripted import T0, main_script, make_config, scripted_factory, started

WIDE = (160, 48)


def build(script: list[Event]) -> DashboardApp:
    app = make_app(make_config(), scripted_factory(script))
    app.clock = lambda: T0 + 125
    return app


def watching() -> ReloadWatching:
    """What the runtime's watcher reports on start for this config (the tab's header)."""

    async def handle(_: object) -> None:
        return None

    return Reloader(make_config(), handle, lambda _: None).watching()


def reload_script() -> list[Event]:
    views = "/tmp/x/polls/views.py"
    return [
        watching(),
        *main_script(),
        FilesChanged(ts=T0 + 10, paths=(views,), action="restart", reason="code changed"),
        ServerStarting(ts=T0 + 10.01, mode="child", generation=2),
        started(generation=2, ts=T0 + 10.05),
        ReloadFinished(
            ts=T0 + 10.05, generation=2, path="fork", duration_ns=48_000_000, paths=(views,)
        ),
        FilesChanged(
            ts=T0 + 20,
            paths=("/tmp/x/polls/templates/polls/index.html",),
            action="templates",
            reason="template changed",
        ),
        ReloadFinished(
            ts=T0 + 20.02,
            generation=2,
            path="templates",
            duration_ns=21_000_000,
            paths=("/tmp/x/polls/templates/polls/index.html",),
        ),
    ]


def test_middleware_audit_screen(snap_compare) -> None:  # type: ignore[no-untyped-def]
    audit = dataclasses.replace(AUDIT, ts=T0 + 1)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("m")
        await pilot.pause()

    assert snap_compare(build([*main_script(), audit]), terminal_size=WIDE, run_before=run_before)


def test_reloads_tab(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("5")
        await pilot.pause()

    assert snap_compare(build(reload_script()), terminal_size=WIDE, run_before=run_before)
