"""Figure 4: parent (dashboard) and child (server) RSS over a long run, at checkpoints.

The dashboard runs in its own process (:mod:`bench.memory_app`: the real TUI under ``run_test``,
default history of 5,000 requests, child-mode runtime). The load is the fastest view there is
(the generated project without middleware, async ``/ahello/``), in chunks of a few seconds; after
each chunk ``VmRSS`` of both processes is read from ``/proc/PID/status``. It stops at the target
request count or at the time budget, whichever comes first (and says which).

"Flat" is judged from the first checkpoint with the history buffer (5,000 requests) full to the
last one: a change of at most 10 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from . import procs
from .load import run_load
from .projects import REPO, Project

HISTORY = 5000


@dataclass
class MemoryResult:
    target: int
    requests: int = 0
    events: int = 0
    seconds: float = 0.0
    tool: str = ""
    #: (requests so far, parent MiB, child MiB)
    checkpoints: list[tuple[int, float, float]] = field(default_factory=list)
    error: str | None = None

    def growth(self) -> tuple[float, float] | None:
        """Parent and child RSS change from the first checkpoint with the history buffer full
        to the last one; None if the run was too short to tell."""
        full = [c for c in self.checkpoints if c[0] >= 2 * HISTORY]
        if len(full) < 2:
            return None
        return full[-1][1] - full[0][1], full[-1][2] - full[0][2]


def run(
    project: Project,
    path: str,
    *,
    target: int,
    budget_s: float,
    chunk_s: float,
    connections: int,
    prefer: str,
) -> MemoryResult:
    result = MemoryResult(target=target)
    cmd = [sys.executable, "-m", "bench.memory_app", str(project.dir), project.settings,
           str(budget_s + 60)]  # fmt: skip
    env = procs.base_env(project)
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    procs.track(proc)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        started = json.loads(proc.stdout.readline() or b"{}")
        if not started.get("url"):
            result.error = "the dashboard did not start its server"
            return result
        server_pid = int(started["server_pid"])
        procs.register_pid(server_pid)
        url = started["url"] + path
        result.checkpoints.append((0, procs.rss_mb(proc.pid), procs.rss_mb(server_pid)))
        t0 = time.monotonic()
        while result.requests < target and time.monotonic() - t0 < budget_s:
            load = run_load(url, chunk_s, connections, prefer)
            result.requests += load.requests
            result.tool = load.tool
            result.checkpoints.append(
                (result.requests, procs.rss_mb(proc.pid), procs.rss_mb(server_pid))
            )
        result.seconds = time.monotonic() - t0
        time.sleep(0.5)  # let the UI ingest the tail
        proc.stdin.write(b"stop\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        result.events = int(json.loads(line).get("events", 0)) if line else 0
        proc.wait(30)
    finally:
        procs.stop(proc)
    return result


def table(r: MemoryResult) -> list[list[str]]:
    rows = [["requests served", "parent RSS MiB (TUI)", "child RSS MiB (server)"]]
    if r.error:
        return [*rows, [r.error, "", ""]]
    step = max(1, len(r.checkpoints) // 8)
    shown = r.checkpoints[::step]
    if shown[-1] != r.checkpoints[-1]:
        shown.append(r.checkpoints[-1])
    rows += [[f"{n:,}", f"{p:.1f}", f"{c:.1f}"] for n, p, c in shown]
    growth = r.growth()
    peak = max(p for _, p, _ in r.checkpoints)
    stopped = "target reached" if r.requests >= r.target else "time budget reached first"
    if growth is None:
        flat, dp_text, dc_text = "not measured (run shorter than the buffer)", "-", "-"
    else:
        dp, dc = growth
        flat = "met" if dp <= 10 else "NOT met"
        dp_text, dc_text = f"{dp:+.1f}", f"{dc:+.1f}"
    bounded = "met" if peak <= 150 else "NOT met"
    rows.append(
        [
            f"{r.requests:,} in {r.seconds:.0f} s ({stopped}; {r.tool}), {r.events:,} events",
            f"peak {peak:.1f} (<=150: {bounded}), growth after buffer full {dp_text}",
            f"growth {dc_text}; flat: {flat}",
        ]
    )
    return rows
