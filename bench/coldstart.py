"""Figure 5: cold start, process start to first successful response, interleaved.

Each run picks a free port, starts the command (``python -m uvicorn ...`` or ``python -m
asgi_dashboard --headless --json --port P ...``, both through the same interpreter), and polls
``GET ready_path`` every 5 ms until it answers 2xx; the figure is the time from just before
``Popen`` to that answer. The process is then stopped and the next kind starts (the order rotates
per round). A ratio is the median over rounds of asgi-dash / uvicorn in the same round, shown with
the lowest and highest round. For asgi-dash this includes its own start, starting the server
process (a fork of the CLI right after argument parsing on Linux, see
asgi_dashboard/runtime/launch.py), Django's set-up there and the first request through the
instrumentation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .projects import Project
from .stats import median, ratio

KINDS = ("uvicorn", "asgi-dash child", "asgi-dash in-process")


@dataclass
class ColdStartResult:
    project: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    #: Per round, kind -> seconds (the kinds of one round ran back to back).
    rounds: list[dict[str, float]] = field(default_factory=list)
    failures: int = 0

    def pair_ratios(self, kind: str) -> list[float]:
        """kind / uvicorn per round: paired, so the machine's drift between rounds cancels."""
        return sorted(
            ratio(r[kind], r["uvicorn"]) for r in self.rounds if kind in r and "uvicorn" in r
        )

    def ratio(self, kind: str) -> float:
        return median(self.pair_ratios(kind))

    def cell(self, kind: str) -> str:
        pairs = self.pair_ratios(kind)
        spread = f" [{pairs[0]:.2f}-{pairs[-1]:.2f}]" if pairs else ""
        return f"{self.ratio(kind):.2f}{spread}"


def _command(kind: str, project: Project, port: int) -> tuple[list[str], dict[str, str]]:
    if kind == "uvicorn":
        return procs.uvicorn_cmd(project, port), procs.uvicorn_env(project)
    cmd = procs.asgi_dash_cmd(project, port, in_process=kind.endswith("in-process"))
    return cmd, procs.base_env(project)


def _one(kind: str, project: Project, log_dir: Path, timeout: float) -> float:
    port = procs.free_port()
    cmd, env = _command(kind, project, port)
    log = log_dir / f"coldstart-{kind.replace(' ', '-')}-{port}.log"
    t0 = time.perf_counter()
    proc = procs._spawn(cmd, cwd=project.dir, env=env, log=log)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}{project.ready_path}", timeout, interval=0.005)
        return time.perf_counter() - t0
    finally:
        server_pids = _server_pids(log) if kind != "uvicorn" else []
        procs.stop(proc)
        for pid in server_pids:
            procs._reap_grandchild(pid)


def _server_pids(log: Path) -> list[int]:
    import json

    pids = []
    for line in log.read_bytes().splitlines():
        if b'"server-started"' in line:
            pid = int(json.loads(line)["pid"])
            procs.register_pid(pid)
            pids.append(pid)
    return pids


def measure(
    project: Project,
    log_dir: Path,
    *,
    runs: int,
    timeout: float = 30.0,
    progress: Callable[[str], None] = print,
) -> ColdStartResult:
    result = ColdStartResult(project.name)
    # One unmeasured start of each, so every kind meets the same warm page cache.
    for kind in KINDS:
        _one(kind, project, log_dir, timeout)
    for r in range(runs):
        order = KINDS[r % 3 :] + KINDS[: r % 3]
        this_round: dict[str, float] = {}
        for kind in order:
            try:
                this_round[kind] = _one(kind, project, log_dir, timeout)
            except procs.ServerError:
                result.failures += 1
                continue
            result.seconds.setdefault(kind, []).append(this_round[kind])
        result.rounds.append(this_round)
    progress(f"  cold start {project.name}: {runs} runs each done")
    return result


def table(results: list[ColdStartResult]) -> list[list[str]]:
    rows = [["project", "uvicorn s", "child s", "child ratio", "in-proc s", "in-proc ratio",
             "runs", "target (child / in-proc)"]]  # fmt: skip
    for r in results:
        uv = median(r.seconds.get("uvicorn", []))
        child = median(r.seconds.get("asgi-dash child", []))
        inproc = median(r.seconds.get("asgi-dash in-process", []))
        verdicts = [
            "met" if r.ratio(kind) <= 1.2 else "NOT met"
            for kind in ("asgi-dash child", "asgi-dash in-process")
        ]
        n = min((len(v) for v in r.seconds.values()), default=0)
        rows.append(
            [r.project, f"{uv:.3f}", f"{child:.3f}", r.cell("asgi-dash child"), f"{inproc:.3f}",
             r.cell("asgi-dash in-process"),
             str(n) + (f" ({r.failures} failed)" if r.failures else ""),
             "<=1.2x: " + " / ".join(verdicts)]
        )  # fmt: skip
    return rows
