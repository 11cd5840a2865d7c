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

from ..events import (
    CheckMessage,
    ConsoleOutput,
    Event,
    EventsDropped,
    FilesChanged,
    LogRecord,
    LoopBlocked,
    MiddlewareAudit,
    ReloadFinished,
    ReloadLoopDetected,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
    WsClosed,
)
from ..formatting import clock, crash_next_step, duration
from .palette import Palette

MAX_LINES = 5000


def console_line(event: Event, p: Palette) -> Text | None:
    """One styled entry (possibly several lines) for a console event; None to skip it."""
    text = Text(clock(event.ts) + " ", style=p.muted)
    server = f"bold {p.primary}"
    match event:
        case LogRecord() if event.formatted is not None:
            # As the project's own handler formats it (structlog, JSON, ...): its text, its
            # colours (ANSI codes become styles), every line kept; the level stays a column.
            level = event.level.upper()
            text.append(f"{level:<8} ", style=p.level(level) or "bold")
            formatted = event.formatted.rstrip()
            text.append_text(Text.from_ansi(formatted) if "\x1b[" in formatted else Text(formatted))
        case LogRecord():
            level = event.level.upper()
            text.append(f"{level:<8} ", style=p.level(level) or "bold")
            text.append(f"{event.logger}: ", style=p.muted)
            text.append(
                event.message, style=p.level(level) if level in ("ERROR", "CRITICAL") else ""
            )
            if event.exc_text:
                text.append("\n" + event.exc_text.rstrip(), style=p.muted)
        case ConsoleOutput():
            text.append(
                f"{event.stream:<8} ", style=p.error if event.stream == "stderr" else p.muted
            )
            text.append(event.text.rstrip("\n"))
        case CheckMessage():
            text.append(f"{event.level.upper():<8} ", style=p.level(event.level) or "bold")
            text.append(f"check {event.check_id}: " if event.check_id else "check: ", style=p.muted)
            text.append(event.message)
            if event.hint:
                text.append(f"  hint: {event.hint}", style=p.muted)
        case ServerStarting():
            text.append("SERVER   ", style=server)
            text.append(f"starting generation {event.generation} ({event.mode})")
        case ServerStarted():
            text.append("SERVER   ", style=server)
            text.append(f"running at {event.url}  pid {event.pid}  in {event.startup_s:.2f} s")
            if event.env_file:
                text.append(f"  env {event.env_file}", style=p.muted)
        case ServerStopped():
            style = p.error if event.reason != "requested" else server
            how = f"signal {event.signal}" if event.signal else f"exit code {event.exit_code}"
            text.append("SERVER   ", style=style)
            text.append(f"pid {event.pid} stopped ({event.reason}, {how})")
            if event.reason == "crashed":
                text.append(f"; {crash_next_step(event)}", style=style)
        case ServerFailed():
            text.append("FAILED   ", style=f"bold {p.error}")
            text.append(event.message, style=p.error)
            if event.error is not None:
                text.append("\n" + event.error.traceback.rstrip(), style=p.muted)
        case FilesChanged():
            text.append("RELOAD   ", style=p.accent)
            text.append(
                f"{', '.join(event.paths[:3])}{' …' if len(event.paths) > 3 else ''}"
                f" → {event.action}"
            )
        case ReloadFinished():
            text.append("RELOAD   ", style=p.accent if event.ok else f"bold {p.error}")
            outcome = "ok" if event.ok else "FAILED"
            text.append(
                f"{outcome} via {event.path} in {duration(event.duration_ns)}"
                f" (generation {event.generation})"
            )
        case ReloadLoopDetected():
            text.append("RELOAD   ", style=p.warning)
            text.append(f"{event.path} changed {event.count} times in a row: ignoring it")
        case LoopBlocked():
            text.append("BLOCKED  ", style=f"bold {p.warning}")
            text.append(f"event loop blocked {duration(event.duration_ns)}")
            if event.frame is not None:
                f = event.frame
                text.append(f" in {f.filename}:{f.lineno} {f.function}()  {f.line}")
            if event.in_flight:
                text.append(f" during {', '.join(event.in_flight)}", style=p.muted)
        case EventsDropped():
            text.append("WARNING  ", style=p.warning)
            text.append(f"{event.count} events dropped: the dashboard could not keep up")
        case MiddlewareAudit():
            adapted = [path for path, _, was_adapted in event.entries if was_adapted]
            text.append("INFO     ", style="bold")
            # Under ASGI an "adapted" middleware is a sync-only one Django runs in a thread.
            cost = event.cost_ns_per_request
            text.append(
                f"middleware audit: {len(event.entries)} entries, "
                f"{event.hops_per_request} thread hop(s) per request"
                + (f" ≈ {cost / 1e6:.2f} ms" if cost else "")
                + (f"; sync-only, run in a thread: {', '.join(adapted)}" if adapted else "")
                + "  (press m for the audit)"
            )
        case WsClosed():
            if event.error is None:
                return None
            text.append("ERROR    ", style=f"bold {p.error}")
            text.append(
                f"WebSocket {event.id} ({event.consumer or '?'}): "
                f"{event.error.type}: {event.error.message}"
            )
        case _:
            return None
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
