"""Where each child span of a request goes, when the events give durations but not offsets.

A :class:`~asgi_dashboard.events.RequestFinished` says when the request started (``ts``, wall
clock) and how long each part took (``total_ns``, ``thread_wait_ns``, ``view_ns``,
``template_ns`` with its in-view part, each SQL statement's ``duration_ns``), not when each part
began. The placement, from the request's start:

* **thread wait** (sync views) first: the hop to the executor thread just before the view;
* **view** right after it;
* **SQL statements** end to end from the view's start, in statement order, each with its own
  duration; a statement that no longer fits inside the view (issued by a middleware after it,
  e.g. a session save) and every later one are children of the request instead, placed after
  the view and the template rendered after it;
* **template**: the part rendered inside the view (``render()``) at the view's end, the part
  rendered after it (``TemplateResponse``, rendered by Django's handler) right after the view.

The middleware time (the rest of ``total_ns``) is what remains between the last child and the
request's end. Every interval is clamped inside the request, so children always nest in their
parent. Pure functions over the event: no SDK here (unit-tested alone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..events import RequestFinished

Part = Literal["thread-wait", "view", "template", "sql"]


@dataclass(frozen=True, slots=True)
class Interval:
    """One child span: what it is, its wall-clock bounds (ns since the epoch), its parent."""

    part: Part
    start_ns: int
    end_ns: int
    #: "request" (the server span) or "view" (the view span).
    parent: Literal["request", "view"]
    #: For "sql": the statement's index in ``RequestFinished.sql``; for "template": 1 when it
    #: was rendered inside the view, 0 after it.
    index: int = -1


def wall_ns(ts: float) -> int:
    """An event's ``ts`` (seconds, wall clock) as integer nanoseconds since the epoch."""
    return int(ts * 1_000_000_000)


def request_bounds(event: RequestFinished) -> tuple[int, int]:
    """The request span's start and end (wall-clock ns)."""
    start = wall_ns(event.ts)
    return start, start + max(0, event.total_ns)


def request_timeline(event: RequestFinished) -> list[Interval]:
    """The children of the request span, placed as the module docstring says."""
    start, end = request_bounds(event)

    def clamp(t: int) -> int:
        return min(max(t, start), end)

    out: list[Interval] = []
    cursor = start
    if event.thread_wait_ns:
        out.append(Interval("thread-wait", start, clamp(start + event.thread_wait_ns), "request"))
        cursor = clamp(start + event.thread_wait_ns)
    view_start = view_end = cursor
    if event.view_ns is not None:
        view_end = clamp(cursor + event.view_ns)
        out.append(Interval("view", view_start, view_end, "request"))
    has_view = event.view_ns is not None
    in_view = min(event.template_in_view_ns, event.template_ns or 0) if has_view else 0
    after = (event.template_ns or 0) - in_view
    if in_view:
        out.append(Interval("template", max(view_start, view_end - in_view), view_end, "view", 1))
    if after > 0:
        out.append(Interval("template", view_end, clamp(view_end + after), "request", 0))
    out.extend(
        _sql_intervals(
            event, view_start, view_end if has_view else None, clamp(view_end + after), clamp
        )
    )
    return out


def _sql_intervals(
    event: RequestFinished,
    view_start: int,
    view_end: int | None,
    after_view: int,
    clamp: Callable[[int], int],
) -> list[Interval]:
    """The statements end to end from the view's start; those that do not fit inside the view
    (``view_end`` None: no view ran) follow, under the request, from ``after_view``."""
    out: list[Interval] = []
    cursor = view_start
    overflow = view_end is None
    for index, query in enumerate(event.sql):
        duration = max(0, query.duration_ns)
        if not overflow and view_end is not None and cursor + duration > view_end:
            overflow, cursor = True, after_view
        parent: Literal["request", "view"] = "request" if overflow else "view"
        out.append(Interval("sql", clamp(cursor), clamp(cursor + duration), parent, index))
        cursor += duration
    return out


__all__ = ["Interval", "Part", "request_bounds", "request_timeline", "wall_ns"]
