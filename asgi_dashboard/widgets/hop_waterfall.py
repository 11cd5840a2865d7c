"""The thread-hop timeline of one request as a waterfall (the request detail's Hops tab).

One line per hop (``RequestFinished.hops``, see ``instrument/hops.py``): what caused it (a kind
letter, then the middleware class, the view, the signal and its receivers, or the callable with
the project line that called it), the thread that ran it, the wait and the run, and a bar on the
request's own time axis (0 .. ``total_ns``): ``░`` while the call waited for its thread, ``█``
while it ran. Nested hops (the project's calls inside a sync middleware's hop) show as bars
inside the middleware's.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.widgets import Static

from ..events import Hop, RequestFinished
from ..formatting import duration
from .palette import Palette

#: The letter before each hop, by ``Hop.cause_kind``.
KIND_LETTERS = {"middleware": "M", "view": "V", "signal": "S", "project": "P", "other": "·"}


def short_thread(name: str) -> str:
    """``ThreadPoolExecutor-5_0`` -> ``pool-5_0`` (asgiref's executors are all of that kind)."""
    return name.replace("ThreadPoolExecutor-", "pool-") if name else "?"


def hop_label(hop: Hop) -> str:
    """The cause, with the project line that called ``sync_to_async`` when there is one."""
    if hop.source is not None:
        return f"{hop.cause} ({os.path.basename(hop.source.filename)}:{hop.source.lineno})"
    return hop.cause


def _fit(text: str, width: int, keep_start: bool = False) -> str:
    """Cut on the left (the end of a dotted name says the most) or, with ``keep_start``, on the
    right (a signal's name comes first), and padded to ``width``."""
    if len(text) > width:
        text = text[: width - 1] + "…" if keep_start else "…" + text[len(text) - width + 1 :]
    return text.ljust(width)


def _bar(hop: Hop, total: int, width: int) -> tuple[int, int, int]:
    """(cells before, wait cells, run cells) of one hop on a ``width``-cell axis of ``total`` ns."""
    scale = width / total if total else 0.0
    start = min(width - 1, int(hop.submitted_ns * scale))
    wait = int((hop.started_ns - hop.submitted_ns) * scale) if hop.started_ns else 0
    wait = max(0, min(wait, width - start - 1))
    run = max(1, round(hop.run_ns * scale))
    return start, wait, max(1, min(run, width - start - wait))


class HopWaterfall(Static):
    """Every hop of a request on the request's time axis, and a summary line."""

    def __init__(self, request: RequestFinished, palette: Palette, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.request = request
        self.palette = palette

    def on_resize(self) -> None:
        self.update(self.render_waterfall(max(40, self.size.width)))

    def on_mount(self) -> None:
        self.update(self.render_waterfall(max(40, self.size.width or 80)))

    def render_waterfall(self, width: int) -> Text:
        p, r = self.palette, self.request
        colours = {"middleware": p.warning, "view": p.primary, "signal": p.muted}
        colours |= {"project": p.success, "other": p.muted}
        label_w = max(16, min(48, width * 2 // 5))
        bar_w = max(8, width - label_w - 31)  # letter 2, thread 10, wait + run 18, margin 1
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self._summary() + "\n", style="bold")
        text.append("░ waiting for the thread  █ running   ", style=p.muted)
        text.append(f"axis: the request's {duration(r.total_ns)}\n", style=p.muted)
        header = f"  {'cause':<{label_w}} {'thread':<8} {'wait':>8} {'run':>8}"
        text.append(header + "\n", style=f"bold {p.muted}")
        for hop in r.hops:
            colour = colours.get(hop.cause_kind, p.muted)
            text.append(KIND_LETTERS.get(hop.cause_kind, "?") + " ", style=f"bold {colour}")
            text.append(_fit(hop_label(hop), label_w, keep_start=hop.cause_kind == "signal"))
            text.append(f" {short_thread(hop.thread):<8.8} ", style=p.muted)
            text.append(f"{duration(hop.wait_ns):>8} {duration(hop.run_ns):>8} ")
            before, wait, run = _bar(hop, r.total_ns, bar_w)
            text.append(" " * before)
            text.append("░" * wait, style=p.warning)
            text.append("█" * run, style=colour)
            text.append("\n")
        dropped = r.sync_hops - len(r.hops)
        if dropped > 0:
            text.append(f"… {dropped} more hop(s) counted, not kept\n", style=p.muted)
        text.append("M middleware  V view  S signal  P project's sync_to_async  · other", p.muted)
        return text

    def _summary(self) -> str:
        r = self.request
        waits = [h.wait_ns for h in r.hops]
        threads = len({h.thread for h in r.hops if h.thread})
        return (
            f"{r.sync_hops} hop(s) on {threads} thread(s) · waited {duration(sum(waits))} in all, "
            f"longest {duration(max(waits, default=0))}"
        )
