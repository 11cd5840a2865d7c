"""Figure 1: instrumentation overhead, requests/s vs plain uvicorn, interleaved.

For each project the three servers run side by side (idle ones cost nothing): plain
``uvicorn module:application --no-access-log``, ``asgi-dash --headless --json`` in child mode and
in ``--in-process`` mode, stdout to a file. Each round measures every view on every server, the
server order rotating from round to round (A B C, B C A, C A B ...), so drift (thermal, page
cache, a noisy neighbour) spreads over all of them. Figures are medians over rounds; a ratio is
the median over rounds of asgi-dash / uvicorn measured in the same round (back to back), shown
with the lowest and highest round.

CPU per request (from ``/proc/PID/stat`` around each load) is reported too: on a 2-core machine
the load generator, the server and the dashboard's parent process share the cores, so the
parent's decoding and printing cost shows up as lost requests/s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .load import run_load
from .projects import Project
from .stats import median, ratio

KINDS = ("uvicorn", "child", "in-process")


@dataclass
class ViewResult:
    view: str
    rps: dict[str, list[float]] = field(default_factory=dict)
    #: CPU microseconds per request of the process running the HTTP server.
    cpu_us: dict[str, list[float]] = field(default_factory=dict)
    #: CPU microseconds per request of asgi-dash's parent process (child mode only).
    parent_us: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    tool: str = ""

    def med(self, kind: str) -> float:
        return median(self.rps.get(kind, []))

    def pair_ratios(self, kind: str) -> list[float]:
        """asgi-dash / uvicorn per round: the two ran back to back, so machine drift cancels."""
        base = self.rps.get("uvicorn", [])
        return sorted(ratio(a, b) for a, b in zip(self.rps.get(kind, []), base, strict=False))

    def ratio(self, kind: str) -> float:
        return median(self.pair_ratios(kind))

    def spread(self, kind: str) -> str:
        pairs = self.pair_ratios(kind)
        return f"[{pairs[0]:.2f}-{pairs[-1]:.2f}]" if pairs else ""


def _start(kind: str, project: Project, log_dir: Path) -> procs.Server:
    if kind == "uvicorn":
        return procs.start_uvicorn(project, log_dir)
    return procs.start_asgi_dash(project, log_dir, in_process=kind == "in-process")


def measure_project(
    project: Project,
    log_dir: Path,
    *,
    rounds: int,
    seconds: float,
    connections: int,
    prefer: str,
    views: list[str] | None = None,
    progress: Callable[[str], None] = print,
) -> list[ViewResult]:
    labels = views or list(project.views)
    results = {label: ViewResult(label) for label in labels}
    servers: dict[str, procs.Server] = {}
    try:
        for kind in KINDS:
            servers[kind] = _start(kind, project, log_dir)
        # Warm-up: every view on every server (imports, template cache, DB connection).
        for label in labels:
            for kind in KINDS:
                run_load(servers[kind].url + project.views[label], 0.5, connections, prefer)
        for r in range(rounds):
            order = KINDS[r % 3 :] + KINDS[: r % 3]
            for label in labels:
                res = results[label]
                for kind in order:
                    server = servers[kind]
                    before = server.cpu_seconds()
                    load = run_load(server.url + project.views[label], seconds, connections, prefer)
                    after = server.cpu_seconds()
                    n = max(1, load.requests)
                    per_req = {p: (after[p] - before[p]) / n * 1e6 for p in after}
                    res.rps.setdefault(kind, []).append(load.rps)
                    res.cpu_us.setdefault(kind, []).append(per_req.pop(server.server_pid))
                    res.parent_us.setdefault(kind, []).append(sum(per_req.values()))
                    res.errors += load.errors
                    res.tool = load.tool
            progress(f"  overhead {project.name}: round {r + 1}/{rounds} done")
    finally:
        for server in servers.values():
            procs.stop_server(server)
    return list(results.values())


def table(results: list[ViewResult]) -> list[list[str]]:
    rows = [
        [
            "view", "uvicorn req/s", "child req/s", "child ratio", "in-proc req/s",
            "in-proc ratio", "server CPU us/req uv/child/in-proc", "child parent us/req",
            "target",
        ]
    ]  # fmt: skip
    for r in results:
        cpu = "/".join(f"{median(r.cpu_us.get(k, [])):.0f}" for k in KINDS)
        worst = min(r.ratio("child"), r.ratio("in-process"))
        verdict = "met" if worst >= 0.95 else "NOT met"
        rows.append(
            [
                r.view,
                f"{r.med('uvicorn'):.0f}",
                f"{r.med('child'):.0f}",
                f"{r.ratio('child'):.3f} {r.spread('child')}",
                f"{r.med('in-process'):.0f}",
                f"{r.ratio('in-process'):.3f} {r.spread('in-process')}",
                cpu,
                f"{median(r.parent_us.get('child', [])):.0f}",
                f">=0.95 {verdict}" + (f" ({r.errors} errors)" if r.errors else ""),
            ]
        )
    return rows
