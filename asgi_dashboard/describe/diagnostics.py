"""Words for the diagnostics: a blocked loop, loop lag, the middleware audit, dropped events."""

from __future__ import annotations

from ..events import EventsDropped, LoopBlocked, LoopLag, MiddlewareAudit
from ..formatting import duration, ms
from .base import Description, Segment, describes, entry

# -- diagnostics -------------------------------------------------------------------------------


@describes(LoopBlocked, console=True)
def _blocked(e: LoopBlocked) -> Description:
    where = ""
    parts: list[Segment | str] = [f"event loop blocked {duration(e.duration_ns)}"]
    if e.frame is not None:
        f = e.frame
        where = f" in {f.filename}:{f.lineno} `{f.line}`"
        parts.append(f" in {f.filename}:{f.lineno} {f.function}()  {f.line}")
    during = f" during {', '.join(e.in_flight)}" if e.in_flight else ""
    if during:
        parts.append(Segment(during, "muted"))
    line = f"loop blocked {ms(e.duration_ns, unit=True)}{where}{during}"
    return Description(line, entry("BLOCKED", "warning-strong", *parts))


@describes(LoopLag)
def _lag(e: LoopLag) -> Description:
    return Description()  # a periodic sample: the status bar shows it, no line


@describes(MiddlewareAudit, console=True)
def _audit(e: MiddlewareAudit) -> Description:
    # Imported here: the table's wording lives with the audit (diagnostics/audit.py, pure).
    from ..diagnostics.audit import format_audit

    # Under ASGI an "adapted" middleware is a sync-only one Django runs in a thread.
    adapted = [path for path, _, was_adapted in e.entries if was_adapted]
    cost = e.cost_ns_per_request
    shown = (
        f"middleware audit: {len(e.entries)} entries, "
        f"{e.hops_per_request} thread hop(s) per request"
        + (f" ≈ {cost / 1e6:.2f} ms" if cost else "")
        + (f"; sync-only, run in a thread: {', '.join(adapted)}" if adapted else "")
        + "  (press m for the audit)"
    )
    return Description(format_audit(e), entry("INFO", "strong", shown))


@describes(EventsDropped, console=True)
def _dropped(e: EventsDropped) -> Description:
    line = f"warning: {e.count} events dropped (the dashboard could not keep up)"
    shown = f"{e.count} events dropped: the dashboard could not keep up"
    return Description(line, entry("WARNING", "warning", shown))
