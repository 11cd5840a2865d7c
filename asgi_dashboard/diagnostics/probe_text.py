"""Plain-text rendering of a probe result: the ``asgi-dash probe`` table (no Textual).

The Textual compare screen builds its own table from the same :class:`~.probe.ProbeResult`;
the helpers here (:func:`column_label`, :func:`metric_rows`) are shared so both show the same
figures with the same labels.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .probe import ProbeResult, UrlResult, histogram, histogram_edges

BAR = "█"
#: What "client" and "server" mean in the metric labels (printed under the table).
LEGEND_CLIENT = (
    "client: measured by the probe, per request: connect, send, wait, read (the whole round trip)"
)
LEGEND_SERVER = (
    "server: measured inside the server for the same requests (from its events): the app's "
    "total, the view, the wait for a worker thread"
)


def fmt_ms(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1e6:.1f} ms"


def column_label(result: ProbeResult, r: UrlResult) -> str:
    """The URL, shortened to path and query when every URL targets the same server."""
    netlocs = {urlsplit(x.url).netloc for x in result.results}
    if len(netlocs) == 1:
        parts = urlsplit(r.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return r.url


def no_success(result: ProbeResult) -> list[str]:
    """One line per URL no request succeeded for (status < 400), saying what happened instead."""
    lines = []
    for r in result.results:
        if r.ok:
            continue
        got = ", ".join(f"{n} x HTTP {status}" for status, n in r.statuses)
        why = r.error_samples[0] if r.error_samples else got or "no answer"
        lines.append(f"no successful request to {column_label(result, r)} ({why})")
    return lines


def metric_rows(r: UrlResult) -> list[tuple[str, str]]:
    """(label, value) per metric, client side then server side (when events were attached).

    Without an answer there is no rate or latency to show: "-", not a rate of failures.
    """
    answered = bool(r.latencies_ns)
    rows = [
        ("client: requests/s", f"{r.requests_per_s:.1f}" if answered else "-"),
        ("client: wall", fmt_ms(r.wall_ns)),
        ("client: ok / errors", f"{r.ok} / {r.errors}"),
        ("client: p50", fmt_ms(r.p(50)) if answered else "-"),
        ("client: p95", fmt_ms(r.p(95)) if answered else "-"),
        ("client: p99", fmt_ms(r.p(99)) if answered else "-"),
        ("client: max", fmt_ms(r.latencies_ns[-1] if answered else None)),
    ]
    s = r.server
    if s is not None:
        rows += [
            ("server: requests seen", str(s.matched)),
            ("server: view kind", "/".join(s.kinds) or "-"),
            ("server: total p50", fmt_ms(s.total_p50_ns)),
            ("server: view p50", fmt_ms(s.view_p50_ns)),
            ("server: thread wait p50", fmt_ms(s.thread_wait_p50_ns)),
            ("server: SQL mean", f"{fmt_ms(s.sql_mean_ns)} ({s.sql_count_mean:.1f} q)"),
            ("server: thread hops mean", f"{s.sync_hops_mean:.1f}"),
        ]
    return rows


def histogram_rows(result: ProbeResult, bins: int = 8, width: int = 20) -> list[list[str]]:
    """One row per bin: [range, bar+count per URL], on edges shared by every URL."""
    edges = histogram_edges((v for r in result.results for v in r.latencies_ns), bins)
    if not edges:
        return []
    counts = [histogram(r.latencies_ns, edges) for r in result.results]
    peak = max((c for cs in counts for c in cs), default=0) or 1
    rows = []
    ranges = [f"{edges[i] / 1e6:.1f}-{edges[i + 1] / 1e6:.1f} ms" for i in range(len(edges) - 1)]
    span = max(len(r) for r in ranges)
    for i, label in enumerate(ranges):
        label = f"{label:>{span}}"
        cells = []
        for cs in counts:
            n = cs[i]
            bar = BAR * max(1 if n else 0, round(n / peak * width))
            cells.append(f"{bar:<{width}} {n}")
        rows.append([label, *cells])
    return rows


def format_probe(result: ProbeResult, *, bins: int = 8) -> str:
    """The side-by-side table printed by ``asgi-dash probe``."""
    labels = [column_label(result, r) for r in result.results]
    table = [metric_rows(r) for r in result.results]
    names = [name for name, _ in table[0]] if table else []
    # A URL may have server rows and the other not (no events matched): align by label.
    for rows in table[1:]:
        names += [n for n, _ in rows if n not in names]
    values = [dict(rows) for rows in table]
    left = max([len(n) for n in names] + [8])
    col = max([len(lb) for lb in labels] + [14])
    lines = [
        f"probe {result.run_id}: {result.requests} requests per URL, "
        f"concurrency {result.concurrency}",
        " " * left + "".join(f"  {lb:>{col}}" for lb in labels),
    ]
    for name in names:
        cells = "".join(f"  {v.get(name, '-'):>{col}}" for v in values)
        lines.append(f"{name:<{left}}{cells}")
    hist = histogram_rows(result, bins)
    if hist:
        lines.append("latency histogram")
        span = len(hist[0][0])
        cell = max(len(c) for row in hist for c in row[1:])
        lines.append("  " + " " * span + "".join(f"  {lb[:cell]:<{cell}}" for lb in labels))
        lines += ["  " + row[0] + "".join(f"  {c:<{cell}}" for c in row[1:]) for row in hist]
    lines.append(LEGEND_CLIENT)
    if any(r.server is not None for r in result.results):
        lines.append(LEGEND_SERVER)
    for r, lb in zip(result.results, labels, strict=True):
        for sample in r.error_samples:
            lines.append(f"error {lb}: {sample}")
    lines += no_success(result)
    return "\n".join(line.rstrip() for line in lines)
