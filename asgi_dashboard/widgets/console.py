"""The console: the project's log records and stdout/stderr, checks, and server lifecycle events.

One chronological stream, levels coloured, bounded (RichLog ``max_lines``). Multi-line text
(tracebacks) wraps inside the panel rather than running across the terminal, every line after
the first indented under the text (after the time and tag column).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable

from rich.console import Console
from rich.text import Text
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import RichLog

from ..describe import Role, describe, in_console
from ..events import Event
from ..formatting import clock
from .palette import Palette

MAX_LINES = 5000
#: Used only to measure text while wrapping (never prints).
_MEASURE = Console(width=1000, color_system=None, file=open(os.devnull, "w"))  # noqa: SIM115


def role_style(role: Role, p: Palette) -> str:
    """The Rich style of a :data:`~asgi_dashboard.describe.Role` in this palette."""
    match role:
        case "muted":
            return p.muted
        case "strong":
            return "bold"
        case "server":
            return f"bold {p.primary}"
        case "accent":
            return p.accent
        case "warning":
            return p.warning
        case "warning-strong":
            return f"bold {p.warning}"
        case "error":
            return p.error
        case "error-strong":
            return f"bold {p.error}"
        case _:  # "plain", "ansi"
            return ""


def console_parts(event: Event, p: Palette) -> tuple[Text, Text] | None:
    """One styled entry for a console event as (prefix, body); None to skip it.

    The prefix is the time and a tag column; the body may hold several lines (tracebacks). The
    words are :func:`asgi_dashboard.describe.describe`'s console entry: segments whose roles
    become this palette's colours.
    """
    if not in_console(event):
        return None
    entry = describe(event).entry
    if entry is None:
        return None
    prefix = Text(clock(event.ts) + " ", style=p.muted)
    prefix.append(f"{entry.tag.text:<8} ", style=role_style(entry.tag.role, p))
    body = Text()
    for part in entry.parts:
        if part.role == "ansi":
            # The project's formatter coloured it: ANSI codes become styles.
            body.append_text(Text.from_ansi(part.text) if "\x1b[" in part.text else Text(part.text))
        else:
            body.append(part.text, style=role_style(part.role, p))
    return prefix, body


def console_line(event: Event, p: Palette) -> Text | None:
    """The entry as one Text (time, tag, body), unwrapped; None to skip it."""
    parts = console_parts(event, p)
    return None if parts is None else Text.assemble(*parts)


def hanging(prefix: Text, body: Text, width: int) -> Text:
    """The entry laid out at ``width``: every line after the first, wrapped or not, starts
    under the body (after the time and tag), so the columns stay readable."""
    indent = prefix.cell_len
    lines = body.wrap(_MEASURE, max(8, width - indent), no_wrap=False)
    out = prefix.copy()
    pad = " " * indent
    for i, line in enumerate(lines):
        if i:
            out.append("\n" + pad)
        out.append_text(line)
    return out


class ConsoleLog(RichLog):
    """The console stream.

    Entries are kept (bounded) and rendered at the widget's real width: RichLog renders each
    line once, at write time, so lines written while the tab is hidden (width unknown) would be
    wrapped at its 78-column minimum forever. We render only once the width is known, and again
    when it changes.
    """

    # ScrollView has no key bindings of its own (ScrollableContainer's are not inherited).
    BINDINGS = [
        Binding("home", "go_first", "First line", show=False),
        Binding("end", "go_last", "Newest line", show=False),
        Binding("up", "scroll_up", "Up", show=False),
        Binding("down", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, **kwargs)  # type: ignore[arg-type]
        self.palette = Palette()
        self.entries: deque[tuple[Text, Text]] = deque(maxlen=MAX_LINES)
        self._rendered_width = 0

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            line = console_parts(event, self.palette)
            if line is not None:
                self.entries.append(line)
                if self._rendered_width:
                    self.write(hanging(*line, self._rendered_width), width=self._rendered_width)

    def on_resize(self, event: Resize) -> None:
        # After the refresh, scrollable_content_region has the new size.
        self.call_after_refresh(self._rerender)

    def _rerender(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._rendered_width:
            return
        self._rendered_width = width
        self.clear()
        for prefix, body in self.entries:
            self.write(hanging(prefix, body, width), width=width)

    def action_go_first(self) -> None:
        """Home: the first line, and stop following new lines."""
        self.auto_scroll = False
        self.scroll_home(animate=False)

    def action_go_last(self) -> None:
        """End: the newest line, and follow new lines again."""
        self.auto_scroll = True
        self.scroll_end(animate=False)
