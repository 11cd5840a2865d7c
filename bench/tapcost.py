"""Figure 1b: what the instrumentation costs a request, measured without a server.

Figure 1 compares whole servers under ``wrk`` on two shared cores, where machine noise moves a
ratio by several percent between runs. This isolates the part asgi-dash adds: one process per
project (:mod:`bench.tapcost_worker`) calls the project's ASGI application directly, raw and
through the tap with the hooks installed, in alternating blocks of 20 requests, and reports the
CPU time per request of each (``time.process_time``: all threads, so the executor thread that runs
sync views, and the sink's writer thread that encodes the events, are counted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from .projects import REPO, Project


@dataclass
class TapCost:
    view: str
    raw_us: float
    tapped_us: float
    #: Median over adjacent (raw, tapped) block pairs of raw CPU / tapped CPU.
    pair_ratio: float
    requests: int
    #: The thread-hop timeline's part of ``delta_us`` (bench/hopcost.py: its parts timed alone)
    #: and the hops of one request.
    timeline_us: float = 0.0
    hops: int = 0
    #: One empty Python function call in the same process, us (the machine's speed at the time).
    empty_call_us: float = 0.0

    @property
    def delta_us(self) -> float:
        return self.tapped_us - self.raw_us

    @property
    def ratio(self) -> float:
        """Requests/s a CPU-bound server keeps with the tap (raw CPU / tapped CPU), as the
        median of adjacent block pairs: this machine's speed drifts by several percent over
        seconds, which totals over the whole run do not cancel."""
        return self.pair_ratio


@dataclass
class SqlCost:
    """One SQL statement (``cursor.execute``) outside a request and inside a recorded one."""

    statements: int
    raw_us: float
    tapped_us: float
    pair_ratio: float

    @property
    def delta_us(self) -> float:
        return self.tapped_us - self.raw_us


def measure(
    project: Project, *, blocks: int, block: int = 20, sql_statements: int = 0
) -> tuple[list[TapCost], dict[str, SqlCost] | None]:
    """Figure 1b for one project's views (and ``tapcost_views``); with ``sql_statements``, the
    cost of one statement too (blocks of that many statements)."""
    views = {**project.views, **project.tapcost_views}
    spec = {
        "project_dir": str(project.dir),
        "settings": project.env.get("DJANGO_SETTINGS_MODULE", project.settings),
        "asgi": project.asgi,
        "paths": list(views.values()),
        "blocks": blocks,
        "block": block,
        "sql_statements": sql_statements,
    }
    env = {**os.environ, **project.env}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    out = subprocess.run(
        [sys.executable, "-m", "bench.tapcost_worker", json.dumps(spec)],
        cwd=project.dir, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"tapcost worker failed: {out.stderr.strip()[-500:]}")
    labels = {path: label for label, path in views.items()}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    rows = [
        TapCost(
            labels[r["path"]], r["raw_us"], r["tapped_us"], r["pair_ratio"], r["requests"],
            timeline_us=r["timeline"]["total_us"], hops=r["timeline"]["hops"],
            empty_call_us=r["timeline"]["empty_call_us"],
        )
        for r in result["views"]
    ]  # fmt: skip
    sql = result["sql"]
    return rows, ({k: SqlCost(**v) for k, v in sql.items()} if sql else None)


def sql_note(costs: dict[str, SqlCost]) -> str:
    """One sentence per issuer ("project": a loop in the project's code; "library": code
    outside it, where the search for the issuing line walks the whole stack)."""
    parts = [
        f"issued by {issuer} code: {c.raw_us:.1f} us CPU outside a request, {c.tapped_us:.1f} us "
        f"inside a recorded one, +{c.delta_us:.1f} us (raw/tapped {c.pair_ratio:.3f})"
        for issuer, c in costs.items()
    ]
    n = next(iter(costs.values())).statements
    return (
        f"One SQL statement (`cursor.execute`, SQLite, {n} per variant; timing, parameters, the "
        "issuing project line; median of block pairs): " + "; ".join(parts) + "."
    )


def timeline_note(results: list[TapCost]) -> str:
    """The thread-hop timeline's share (instrument/hops.py, bench/hopcost.py: call side per hop,
    thread side per hop, the event's ``hops`` once; target <= 10 us per request)."""
    parts = [
        f"{r.view} {r.hops} hops {r.timeline_us:.1f} us = {r.timeline_us / r.empty_call_us:.0f} "
        "empty calls " + ("(met)" if r.timeline_us <= 10 else "(NOT met)")
        for r in results
        if r.empty_call_us
    ]
    return (
        "Thread-hop timeline, CPU per request timed by its parts (bench/hopcost.py; target "
        "<= 10 us; also in empty Python function calls of the same process, which scale "
        "with the machine's load): " + "; ".join(parts) + "."
    )


def table(results: list[TapCost]) -> list[list[str]]:
    rows = [["view", "raw CPU us/req", "tapped CPU us/req", "added us/req",
             "raw/tapped (median of pairs)", "target"]]  # fmt: skip
    for r in results:
        rows.append(
            [
                r.view,
                f"{r.raw_us:.0f}",
                f"{r.tapped_us:.0f}",
                f"{r.delta_us:+.0f}",
                f"{r.ratio:.3f}",
                ">=0.95 " + ("met" if r.ratio >= 0.95 else "NOT met"),
            ]
        )
    return rows
