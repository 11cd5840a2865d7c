"""Plain-text formatting shared by the widgets, the detail screen and the HAR/curl exports.

Events carry integer nanoseconds and raw values (see :mod:`asgi_dashboard.events`); this module
turns them into the short strings a terminal cell can hold. No Textual, no Rich: the widgets add
colour on top (see :mod:`asgi_dashboard.widgets.palette`).
"""

from __future__ import annotations

import datetime
import shlex
from collections.abc import Sequence

from .events import RequestFinished, ServerStopped

#: Unicode eighth blocks, lowest to highest, for sparklines.
SPARK_CHARS = "▁▂▃▄▅▆▇█"
#: Full and partial blocks for horizontal bars (eighths of a cell).
BAR_PARTIALS = " ▏▎▍▌▋▊▉"


def ms(ns: int | None, *, digits: int = 1, unit: bool = False) -> str:
    """Nanoseconds as milliseconds; "-" when unknown.

    For table cells a bare number with thousands separators ("1,234.5"); with ``unit`` the
    headless line's form, "1234.5 ms": no separator, so a script can parse the number.
    """
    if ns is None:
        return "-"
    if unit:
        return f"{ns / 1e6:.{digits}f} ms"
    return f"{ns / 1e6:,.{digits}f}"


def duration(ns: int | None) -> str:
    """Nanoseconds with a unit that keeps 2-3 significant digits ("850 µs", "12.3 ms", "1.20 s")."""
    if ns is None:
        return "-"
    if ns < 1_000_000:
        return f"{ns / 1e3:.0f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


def clock(ts: float) -> str:
    """Local wall time of day with milliseconds: what a log line shows."""
    return datetime.datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def uptime(seconds: float) -> str:
    """A compact, stable-width-ish uptime: "42s", "3m 05s", "2h 07m", "3d 04h"."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def size(n: int) -> str:
    """Bytes, human readable."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def short_view(view: str, width: int = 32) -> str:
    """Shorten a dotted view path so the *end* (module tail + class/function) stays readable.

    ``polls.views.question_detail`` fits as is; a long
    ``project.apps.polls.api.views.QuestionViewSet`` becomes ``project.….views.QuestionViewSet``
    when the app name and at least two trailing segments fit, else ``…views.QuestionViewSet``
    (whole trailing segments), else the tail characters. The detail screen shows the full name.
    """
    if len(view) <= width:
        return view
    parts = view.split(".")

    def trailing(room: int, candidates: list[str]) -> list[str]:
        tail: list[str] = []
        for part in reversed(candidates):
            if len(".".join([part, *tail])) > room:
                break
            tail.insert(0, part)
        return tail

    if len(parts) > 3:
        head = parts[0] + ".…."
        tail = trailing(width - len(head), parts[1:])
        if len(tail) >= 2:
            return head + ".".join(tail)
    tail = trailing(width - 1, parts[1:])
    if tail:
        return "…" + ".".join(tail)
    return "…" + view[-(width - 1) :]


def status_class(status: int | None) -> str:
    """ "2xx" .. "5xx", or "" for no status (a WebSocket still in its handshake)."""
    if not status:
        return ""
    return f"{status // 100}xx"


def sparkline(values: Sequence[float], width: int = 12) -> str:
    """The last ``width`` values as eighth-block characters, scaled to their own maximum."""
    recent = list(values)[-width:]
    if not recent:
        return ""
    top = max(recent)
    if top <= 0:
        return SPARK_CHARS[0] * len(recent)
    last = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[min(last, round(v / top * last))] for v in recent)


def bar(value: float, maximum: float, width: int) -> str:
    """A left-aligned horizontal bar of ``width`` cells, with eighth-cell resolution."""
    if maximum <= 0 or width <= 0:
        return " " * max(0, width)
    eighths = round(max(0.0, min(1.0, value / maximum)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (BAR_PARTIALS[part] if part else "")
    return text.ljust(width)


# Headers curl computes itself (or that would be wrong for a replay).
_CURL_SKIP = frozenset({"host", "content-length", "connection", "accept-encoding"})


def request_url(request: RequestFinished, base_url: str) -> str:
    """Absolute URL of a request, from the server's base URL."""
    target = request.path + (f"?{request.query}" if request.query else "")
    return base_url.rstrip("/") + target


def curl_command(request: RequestFinished, base_url: str) -> str:
    """A ``curl`` command line that replays the request against the running server.

    Headers are kept as sent (this is the developer's own local server, and a replay without the
    session cookie is rarely what they want); bodies that were previewed as base64 or truncated
    cannot be replayed faithfully, so a trailing comment says so instead of sending wrong bytes.
    """
    parts = ["curl"]
    if request.method != "GET" or (request.method == "GET" and request.request_body):
        parts += ["-X", request.method]
    parts.append(shlex.quote(request_url(request, base_url)))
    for name, value in request.request_headers:
        if name.lower() in _CURL_SKIP:
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    note = ""
    if request.request_body:
        if request.request_body_b64 or request.request_body_truncated:
            note = "  # body not included: it was binary or truncated in the preview"
        else:
            parts += ["--data-binary", shlex.quote(request.request_body)]
    return " ".join(parts) + note


def crash_next_step(stopped: ServerStopped) -> str:
    """What happens after a crash, in a few words ("restarting in 0.5 s", ...)."""
    if stopped.crash_loop:
        return "crash loop: not restarting until a file is saved or r is pressed"
    if stopped.restart_in_s is not None:
        return f"restarting in {stopped.restart_in_s:g} s"
    return "press r to restart"
