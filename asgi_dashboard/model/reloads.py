"""Reload history and what is watched, from the runtime's reload events.

:class:`ReloadHistory` pairs ``FilesChanged`` / ``ReloadFinished`` / ``ReloadLoopDetected`` /
``ServerFailed`` into one :class:`ReloadRow` per reload; :func:`describe_watch` words the
``ReloadWatching`` event the runtime's watcher emits when it starts (its folders and effective
globs), so the UI never recomputes them from the runtime's internals.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..events import (
    Event,
    FilesChanged,
    ReloadFinished,
    ReloadLoopDetected,
    ReloadWatching,
    ServerFailed,
)

MAX_ROWS = 200
#: The pattern the watcher lists for "every file in a template folder".
TEMPLATE_GLOB = "<template dirs>/*"
RELOAD_OFF = "Reloading is off (--no-reload): press r to restart by hand."


@dataclass(frozen=True, slots=True)
class ReloadRow:
    """One line of the timeline."""

    ts: float
    files: tuple[str, ...]
    action: str
    how: str = ""
    duration_ns: int | None = None
    #: "ok", "failed", "loop", "ignored" or "" (still reloading).
    outcome: str = ""
    detail: str = ""


class ReloadHistory:
    """Turns reload events into rows; the newest row is the last."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.rows: deque[ReloadRow] = deque(maxlen=max_rows)
        #: The newest row still waits for its ReloadFinished.
        self._open = False

    def add(self, events: Iterable[Event]) -> bool:
        """Take in events; True if any row changed."""
        changed = False
        for event in events:
            changed = self.apply(event) or changed
        return changed

    def apply(self, event: Event) -> bool:
        """Take in one event; True if a row changed."""
        if isinstance(event, FilesChanged):
            outcome = "ignored" if event.action == "ignore" else ""
            self.rows.append(
                ReloadRow(event.ts, event.paths, event.action, outcome=outcome, detail=event.reason)
            )
            self._open = not outcome
        elif isinstance(event, ReloadFinished):
            if not self._open:  # a manual restart (no FilesChanged before it)
                self.rows.append(ReloadRow(event.ts, event.paths, "manual"))
            self._open = False
            row = self.rows[-1]
            detail = event.reason or row.detail
            if event.error is not None:
                detail = f"{event.error.type}: {event.error.message}"
            self.rows[-1] = replace(
                row,
                how=event.path,
                duration_ns=event.duration_ns,
                outcome="ok" if event.ok else "failed",
                detail=detail,
            )
        elif isinstance(event, ReloadLoopDetected):
            self.rows.append(
                ReloadRow(
                    event.ts,
                    (event.path,),
                    "ignore",
                    outcome="loop",
                    detail=f"triggered {event.count} reloads in a row: ignored from now on "
                    f"(add --reload-exclude '{os.path.basename(event.path)}')",
                )
            )
            self._open = False
        elif isinstance(event, ServerFailed) and self._open:
            self.rows[-1] = replace(self.rows[-1], detail=event.message)
        else:
            return False
        return True


def describe_watch(watching: ReloadWatching | None, *, reload: bool = True) -> str:
    """The watched folders and effective filters, as the runtime's watcher reported them."""
    if not reload:
        return RELOAD_OFF
    if watching is None:
        return ""
    includes = [g for g in watching.includes if g != TEMPLATE_GLOB]
    excludes = [g for g in watching.excludes if not g.endswith("/")]
    folders = [g.rstrip("/") for g in watching.excludes if g.endswith("/")]
    return (
        f"Watching {', '.join(watching.roots)}\n"
        f"include: {' '.join(includes)} + every file in a template folder\n"
        f"exclude: {' '.join(excludes)}; folders {' '.join(folders)}"
    )
