"""A project logging through structlog (standard-library integration, ``ConsoleRenderer``).

The console must read as the project configured it: each record rendered by the project's own
handler formatter (compared with what that handler writes under ``manage.py``), never a dict
repr, with a real multi-line traceback, and with logger and level kept for filtering.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import Project, Step, ViewCheck, compare_with_django, format_mismatches

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KIND = "structlog"

STEPS = [
    Step("place order", "GET", "/orders/place/"),
    Step("failed payment", "GET", "/orders/pay/"),
]

#: Written from files/structlog/orders/views.py.
EXPECTED: dict[str, tuple[int, ViewCheck]] = {
    "place order": (200, "orders.views.place_order"),
    "failed payment": (502, "orders.views.pay"),
}


def _shown(event: dict[str, Any]) -> str:
    """The text the console and headless lines show for a LogRecord event: the project's own
    formatting (``formatted``) when asgi-dash has it, else the message and its traceback."""
    if event.get("formatted") is not None:
        return str(event["formatted"]).rstrip("\n")
    text: str = event["message"]
    if event.get("exc_text"):
        text += "\n" + event["exc_text"]
    return text


async def test_structlog_records_read_as_the_project_configured(
    make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    comparison = await compare_with_django(make_project(KIND), STEPS, tmp_path)
    problems = comparison.mismatches(EXPECTED)

    # What the project's own handler wrote under manage.py, one write per record (paths of the
    # copy the reference ran in replaced by the copy asgi-dash served).
    expected = [
        w["text"].rstrip("\n").replace(str(comparison.ref_dir), str(comparison.asgi_dir))
        for r in comparison.rows
        for w in r.ref["log_writes"]
        if "orders" in w["loggers"]
    ]
    assert len(expected) == 2 and "order placed" in expected[0], expected
    assert "Traceback (most recent call last)" in expected[1], expected
    records = [e for e in comparison.events if e["event"] == "log" and e["logger"] == "orders"]
    levels = [e["level"].lower() for e in records]
    if levels != ["info", "error"]:
        problems.append(f"orders records: levels {levels} != ['info', 'error']")
    for want, event in zip(expected, records, strict=False):
        shown = _shown(event)
        if shown != want:
            problems.append(f"log record shown as {shown!r}\n    the project renders {want!r}")
        if "{'event'" in shown or "\\n" in shown:
            problems.append(f"log record shown as a dict repr or escaped text: {shown!r}")
    assert not problems, format_mismatches("structlog", problems)
