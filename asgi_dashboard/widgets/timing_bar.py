"""Where the time of one request went, as a proportional bar with a legend.

Segments (see ``instrument/hooks.py`` for how each is measured): middleware and server work
(before and after the view, which the events cannot tell apart: total - view - thread wait -
template), thread wait (sync views queueing for Django's thread-sensitive executor), the view,
and template rendering. SQL is shown as a share of the view, since queries run inside it.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ..events import RequestFinished
from ..formatting import duration
from .palette import Palette


def template_after_view(request: RequestFinished) -> int:
    """Template time spent after the view returned (a ``TemplateResponse``, rendered by Django's
    handler); the instrumentation measures the part rendered inside the view separately."""
    return max(0, (request.template_ns or 0) - request.template_in_view_ns)


def segments(request: RequestFinished) -> list[tuple[str, int]]:
    """(label, ns) for each non-empty part of the total, in order."""
    view = request.view_ns or 0
    wait = request.thread_wait_ns or 0
    template = request.template_ns or 0
    outside_template = template_after_view(request)
    inside = template - outside_template
    middleware = max(0, request.total_ns - view - wait - outside_template)
    parts = [
        ("middleware", middleware),
        ("thread wait", wait),
        ("view", view - inside),
        ("template", template),
    ]
    return [(label, ns) for label, ns in parts if ns > 0]


class TimingBar(Static):
    """A one-line bar plus a legend line."""

    def __init__(self, request: RequestFinished, palette: Palette, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.request = request
        self.palette = palette

    def on_resize(self) -> None:
        self.update(self.render_bar(max(10, self.size.width)))

    def on_mount(self) -> None:
        self.update(self.render_bar(max(10, self.size.width or 80)))

    def render_bar(self, width: int) -> Text:
        p, r = self.palette, self.request
        colours = {
            "middleware": p.muted,
            "thread wait": p.warning,
            "view": p.primary,
            "template": p.success,
        }
        parts = segments(r)
        total = sum(ns for _, ns in parts) or 1
        text = Text(no_wrap=True)
        used = 0
        for i, (label, ns) in enumerate(parts):
            cells = width - used if i == len(parts) - 1 else max(1, round(ns / total * width))
            cells = min(cells, width - used)
            text.append("█" * cells, style=colours[label])
            used += cells
        text.append("\n")
        text.append(f"total {duration(r.total_ns)}  ", style="bold")
        for label, ns in parts:
            text.append("■ ", style=colours[label])
            text.append(f"{label} {duration(ns)}  ")
        if not r.sql_count:
            text.append("\nno SQL", style=p.muted)
            return text
        plural = "y" if r.sql_count == 1 else "ies"
        queries = f"SQL {r.sql_count} quer{plural}, {duration(r.sql_ns)}"
        # Queries run in the view, or in a TemplateResponse rendered after it (lazy querysets).
        after = template_after_view(r)
        work = (r.view_ns or 0) + after
        if work:
            where = "view + template" if after else "the view"
            share = r.sql_ns / work * 100
            if share <= 100:
                queries += f" = {share:.0f}% of {where}"
            else:
                queries += f": more than {where} took (some ran in middleware)"
        text.append("\n" + queries, style=p.muted)
        return text
