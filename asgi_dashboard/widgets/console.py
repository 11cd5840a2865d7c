"""The console: the project's log records and stdout/stderr, checks, and server lifecycle events.

One chronological stream, levels coloured, bounded (RichLog ``max_lines``). Multi-line text
(tracebacks) wraps inside the panel rather than running across the terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

from ..describe import Role, describe, in_console
from ..events import Event
from ..formatting import clock
from .palette import Palette

MAX_LINES = 5000


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


def console_line(event: Event, p: Palette) -> Text | None:
    """One styled entry (possibly several lines) for a console event; None to skip it.

    The words are :func:`asgi_dashboard.describe.describe`'s console entry: a tag column, then
    segments whose roles become this palette's colours.
    """
    if not in_console(event):
        return None
    entry = describe(event).entry
    if entry is None:
        return None
    text = Text(clock(event.ts) + " ", style=p.muted)
    text.append(f"{entry.tag.text:<8} ", style=role_style(entry.tag.role, p))
    for part in entry.parts:
        if part.role == "ansi":
            # The project's formatter coloured it: ANSI codes become styles.
            text.append_text(Text.from_ansi(part.text) if "\x1b[" in part.text else Text(part.text))
        else:
            text.append(part.text, style=role_style(part.role, p))
    return text


class ConsoleLog(RichLog):
    """The console stream.

    Entries are kept (bounded) and rendered at the widget's real width: RichLog renders each
    line once, at write time, so lines written while the tab is hidden (width unknown) would be
    wrapped at its 78-column minimum forever. We render only once the width is known, and again
    when it changes.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, **kwargs)  # type: ignore[arg-type]
        self.palette = Palette()
        self.entries: deque[Text] = deque(maxlen=MAX_LINES)
        self._rendered_width = 0

    def add_events(self, events: Iterable[Event]) -> None:
        for event in events:
            line = console_line(event, self.palette)
            if line is not None:
                self.entries.append(line)
                if self._rendered_width:
                    self.write(line, width=self._rendered_width)

    def on_resize(self, event: Resize) -> None:
        # After the refresh, scrollable_content_region has the new size.
        self.call_after_refresh(self._rerender)

    def _rerender(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._rendered_width:
            return
        self._rendered_width = width
        self.clear()
        for line in self.entries:
            self.write(line, width=width)
