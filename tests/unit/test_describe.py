"""One describer per event type, worded once for headless output and the console alike."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest

from asgi_dashboard import events as ev
from asgi_dashboard.describe import Role, Segment, describe, in_console, level_role
from asgi_dashboard.formatting import ms
from asgi_dashboard.headless import format_event
from asgi_dashboard.widgets.console import console_line, role_style
from asgi_dashboard.widgets.palette import Palette

from .test_events import _sample

ERROR = ev.ExceptionInfo("ValueError", "bad", "Traceback ...\nValueError: bad\n")


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda c: c.name)
def test_every_event_type_is_described(cls: type[ev.Event]) -> None:
    event = _sample(cls)
    described = describe(event)
    # A type without a describer would get its bare wire name as its line.
    assert described.line != event.name
    # Only the types registered for the console have an entry, and the console shows exactly those.
    if described.entry is not None:
        assert in_console(event)
    assert (console_line(event, Palette()) is not None) == (described.entry is not None)


def test_headless_line_and_console_entry_come_from_the_same_description() -> None:
    event = ev.WsClosed(id="w1", code=1011, by="error", error=ERROR, consumer="chat.Consumer")
    described = describe(event)
    assert described.line is not None and described.entry is not None
    printed = format_event(event)
    assert printed is not None and printed.endswith(f"  {described.line}")
    assert described.line.endswith("\n    ! ValueError: bad")
    assert described.entry.tag == Segment("ERROR", "error-strong")
    text = console_line(event, Palette())
    assert text is not None
    assert text.plain.endswith("ERROR    " + described.entry.plain)
    assert described.entry.plain == "WebSocket w1 (chat.Consumer): ValueError: bad"


def test_a_normal_websocket_close_is_not_console_news() -> None:
    event = ev.WsClosed(id="w1", code=1000)
    assert in_console(event)  # the type is, this one has nothing to say there
    assert describe(event).entry is None
    assert console_line(event, Palette()) is None


def test_requests_and_frames_skip_the_console_without_wording() -> None:
    for event in (_sample(ev.RequestFinished), _sample(ev.WsFrame), _sample(ev.WsOpened)):
        assert not in_console(event)
        assert describe(event).entry is None


def test_loop_lag_samples_have_no_line() -> None:
    assert describe(ev.LoopLag(current_ns=1, max_ns=2)).line is None
    assert format_event(ev.LoopLag(current_ns=1, max_ns=2)) is None


def test_levels_map_to_roles() -> None:
    assert [level_role(lvl) for lvl in ("debug", "INFO", "Warning", "error", "CRITICAL")] == [
        "muted",
        "strong",
        "warning",
        "error",
        "error-strong",
    ]
    assert level_role("TRACE") == "strong"  # a project's own level


def test_every_role_has_a_console_style() -> None:
    p = Palette()
    styled = {role: role_style(role, p) for role in get_args(Role)}
    assert styled["plain"] == styled["ansi"] == ""
    assert all(styled[role] for role in styled if role not in ("plain", "ansi"))
    assert styled["error-strong"] == f"bold {p.error}"


def test_project_formatted_log_keeps_its_ansi_colours_in_the_console_only() -> None:
    event = ev.LogRecord(
        logger="app", level="INFO", message="m", formatted="\x1b[32mgreen\x1b[0m done\n"
    )
    described = describe(event)
    assert described.line == "INFO     \x1b[32mgreen\x1b[0m done"
    text = console_line(event, Palette())
    assert text is not None
    assert text.plain.endswith("INFO     green done")
    green = text.plain.index("green")
    assert any(span.start == green and "color(2)" in str(span.style) for span in text.spans)


def test_ms_has_one_definition_for_cells_and_lines() -> None:
    assert ms(1_234_567_890) == "1,234.6"
    assert ms(1_234_567_890, unit=True) == "1234.6 ms"  # no separator: scripts parse it
    assert ms(12_345, digits=2) == "0.01"
    assert ms(None) == ms(None, unit=True) == "-"


def test_describe_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, asgi_dashboard.describe as d, asgi_dashboard.headless;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
