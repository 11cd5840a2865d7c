"""Figure 7c (issue 15): what ``--otlp`` costs a request, in CPU, export on vs off.

Two ``asgi-dash --headless --json`` dashboards on the demo (child mode), side by side: one with
``--otlp`` pointed (``OTEL_EXPORTER_OTLP_ENDPOINT``) at a receiver that accepts every OTLP/HTTP
POST and discards it, one without. Each round loads every view on both, the order alternating
from round to round. CPU per request is read from ``/proc/PID/stat`` around each load and counts
**both** processes: the server child (which does the same work either way: the spans are built
from the events the parent already receives) and the dashboard parent (where the spans are built,
batched, encoded and sent by the SDK's thread). The receiver runs in this process, like the load
generator, and is not counted.

Target (issue 15): export on <= 1.10x the CPU per request of export off. Reported per view: CPU
us/request off and on (p50 and p95 over rounds), the on/off ratio (median of per-round pairs,
min-max in brackets), the parent's share and what the export added there (the less noisy
figure), and the load generator's median latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import procs
from .load import run_load
from .projects import Project
from .stats import median, percentile, ratio

KINDS = ("off", "on")
TARGET = 1.10
#: The demo views measured: a plain one (3 spans) and the N+1 page (1 + 2 + 11 SQL spans).
VIEWS = {
    "demo /sync/?ms=0 (3 spans)": "/sync/?ms=0",
    "demo /orm/n-plus-one/ (14 spans)": "/orm/n-plus-one/",
}


class DiscardingReceiver:
    """An OTLP/HTTP endpoint that answers 200 to every ``POST /v1/traces`` and keeps only counts."""

    def __init__(self) -> None:
        self.posts = 0
        self.bytes = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real collector

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(size)
                receiver.posts += 1
                receiver.bytes += size
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def start_dashboard(project: Project, log_dir: Path, otlp: str | None) -> procs.Server:
    """``asgi-dash --headless --json`` on ``project`` (child mode), with ``--otlp`` if given."""
    port = procs.free_port()
    label = "on" if otlp else "off"
    log = log_dir / f"asgi-dash-otlp-{label}-{port}.jsonl"
    cmd = [*procs.asgi_dash_cmd(project, port, in_process=False), "--no-reload"]
    env = procs.base_env(project)
    if otlp:
        cmd.append("--otlp")
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=project.dir, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    procs.track(proc)
    started = procs.read_started(log, proc, 30.0)
    server_pid = int(str(started["pid"]))
    procs.register_pid(server_pid)
    url = str(started["url"])
    procs.wait_http(url + project.ready_path, 30.0)
    return procs.Server(f"otlp {label}", proc, url, log, server_pid, [proc.pid, server_pid])


@dataclass
class OtlpResult:
    view: str
    #: CPU microseconds per request, server + dashboard parent, one value per round.
    cpu_us: dict[str, list[float]] = field(default_factory=dict)
    parent_us: dict[str, list[float]] = field(default_factory=dict)
    p50_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    posts: int = 0
    bytes: int = 0

    def pair_ratios(self) -> list[float]:
        on, off = self.cpu_us.get("on", []), self.cpu_us.get("off", [])
        return sorted(ratio(a, b) for a, b in zip(on, off, strict=False))

    def ratio(self) -> float:
        return median(self.pair_ratios())


def measure(
    project: Project,
    log_dir: Path,
    *,
    rounds: int,
    seconds: float,
    connections: int,
    prefer: str,
    progress: Callable[[str], None] = print,
) -> list[OtlpResult]:
    receiver = DiscardingReceiver()
    servers: dict[str, procs.Server] = {}
    results = {label: OtlpResult(label) for label in VIEWS}
    try:
        servers["off"] = start_dashboard(project, log_dir, None)
        servers["on"] = start_dashboard(project, log_dir, receiver.endpoint)
        for path in VIEWS.values():  # warm-up: imports, template cache, DB connection
            for kind in KINDS:
                run_load(servers[kind].url + path, 0.5, connections, prefer)
        for r in range(rounds):
            order = KINDS if r % 2 == 0 else KINDS[::-1]
            for label, path in VIEWS.items():
                for kind in order:
                    _one_load(results[label], kind, servers[kind], path, seconds, connections,
                              prefer, receiver)  # fmt: skip
            progress(f"  otlp: round {r + 1}/{rounds} done")
    finally:
        for server in servers.values():
            procs.stop_server(server)
        receiver.close()
    return list(results.values())


def _one_load(
    res: OtlpResult,
    kind: str,
    server: procs.Server,
    path: str,
    seconds: float,
    connections: int,
    prefer: str,
    receiver: DiscardingReceiver,
) -> None:
    posts, size = receiver.posts, receiver.bytes
    before = server.cpu_seconds()
    load = run_load(server.url + path, seconds, connections, prefer)
    after = server.cpu_seconds()
    n = max(1, load.requests)
    per_pid = {pid: (after[pid] - before[pid]) / n * 1e6 for pid in after}
    res.cpu_us.setdefault(kind, []).append(sum(per_pid.values()))
    res.parent_us.setdefault(kind, []).append(per_pid[server.proc.pid])
    res.p50_ms.setdefault(kind, []).append(load.p50_ms)
    res.errors += load.errors
    if kind == "on":
        res.posts += receiver.posts - posts
        res.bytes += receiver.bytes - size


def _pcts(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{percentile(ordered, 50):.0f} / {percentile(ordered, 95):.0f}"


def _added(r: OtlpResult) -> str:
    """The export's own cost, read where it is paid (the parent: the server does the same work
    either way), and as a share of a request's CPU with export off: far less noisy than the
    on/off ratio on a busy machine, where the server's CPU per request drifts by 10-30%."""
    added = median(r.parent_us.get("on", [])) - median(r.parent_us.get("off", []))
    share = ratio(added, median(r.cpu_us.get("off", [])))
    return f"+{added:.0f} us (+{share * 100:.1f}%)"


def table(results: list[OtlpResult]) -> list[list[str]]:
    rows = [
        [
            "view", "CPU us/req off p50/p95", "CPU us/req on p50/p95", "on/off", "of which parent "
            "off/on", "added by export", "latency p50 ms off/on", "OTLP posts (KiB)", "target",
        ]
    ]  # fmt: skip
    for r in results:
        pairs = r.pair_ratios()
        spread = f"[{pairs[0]:.2f}-{pairs[-1]:.2f}]" if pairs else ""
        verdict = "met" if r.ratio() <= TARGET else "NOT met"
        rows.append(
            [
                r.view,
                _pcts(r.cpu_us.get("off", [])),
                _pcts(r.cpu_us.get("on", [])),
                f"{r.ratio():.3f} {spread}",
                "/".join(f"{median(r.parent_us.get(k, [])):.0f}" for k in KINDS),
                _added(r),
                "/".join(f"{median(r.p50_ms.get(k, [])):.1f}" for k in KINDS),
                f"{r.posts} ({r.bytes / 1024:.0f})",
                f"<={TARGET:.2f}x {verdict}" + (f" ({r.errors} errors)" if r.errors else ""),
            ]
        )
    return rows


def main() -> None:
    """``python -m bench.otlp [ROUNDS] [SECONDS]``: this figure alone, JSON rows on stdout."""
    import sys
    import tempfile

    from . import projects

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    with tempfile.TemporaryDirectory(prefix="asgi-dash-bench-otlp-") as tmp:
        try:
            project = projects.demo(Path(tmp))
            results = measure(project, Path(tmp), rounds=rounds, seconds=seconds,
                              connections=8, prefer="auto")  # fmt: skip
        finally:
            procs.stop_all()
    for row in table(results):
        print(json.dumps(row))
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
