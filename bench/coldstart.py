"""Figure 5: cold start, process start to first successful response, interleaved.

Each run picks a free port, starts the command (``python -m uvicorn ...`` or
``python -m asgi_dashboard --headless --json --port P ...``, both through the same interpreter),
and polls ``GET ready_path`` every 5 ms until it answers 2xx; the figure is the time from just
before ``Popen`` to that answer. The process is then stopped and the next kind starts (the order
rotates per round). For asgi-dash this includes its own start, spawning the child, Django's
set-up in the child and the first request through the instrumentation.
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
    failures: int = 0


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
        for kind in order:
            try:
                result.seconds.setdefault(kind, []).append(_one(kind, project, log_dir, timeout))
            except procs.ServerError:
                result.failures += 1
    progress(f"  cold start {project.name}: {runs} runs each done")
    return result


def table(results: list[ColdStartResult]) -> list[list[str]]:
    rows = [["project", "uvicorn s", "child s", "child ratio", "in-proc s", "in-proc ratio",
             "runs", "target"]]  # fmt: skip
    for r in results:
        uv = median(r.seconds.get("uvicorn", []))
        child = median(r.seconds.get("asgi-dash child", []))
        inproc = median(r.seconds.get("asgi-dash in-process", []))
        worst = max(ratio(child, uv), ratio(inproc, uv))
        n = min((len(v) for v in r.seconds.values()), default=0)
        rows.append(
            [r.project, f"{uv:.3f}", f"{child:.3f}", f"{ratio(child, uv):.2f}", f"{inproc:.3f}",
             f"{ratio(inproc, uv):.2f}", str(n) + (f" ({r.failures} failed)" if r.failures else ""),
             "<=1.2x: " + ("met" if worst <= 1.2 else "NOT met")]
        )  # fmt: skip
    return rows
