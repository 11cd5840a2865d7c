"""UI test helpers: deterministic time zone, and bounded waits for the event pump."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from asgi_dashboard.app import DashboardApp


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Render wall-clock columns in UTC so snapshots are the same on every machine."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


async def wait_for(
    pilot: Pilot[Any],
    condition: Callable[[], bool],
    timeout: float = 10.0,
    what: str = "condition",
) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.01)


async def settle(pilot: Pilot[Any], timeout: float = 10.0) -> None:
    """Wait until every event the runtime emitted has been ingested and shown."""
    app = pilot.app
    assert isinstance(app, DashboardApp)
    await wait_for(
        pilot,
        lambda: app.events_ingested > 0 and app.events_pending == 0 and not app._flush_scheduled,
        timeout,
        "the event pump to drain",
    )
    await pilot.pause()
    await pilot.pause()


def plain(widget: Widget, width: int = 200) -> str:
    """The text a Static shows, whatever it holds (str, Text, or any Rich renderable)."""
    content = widget.content if isinstance(widget, Static) else widget.render()
    if isinstance(content, str):
        return content
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(content)
    return console.export_text()
