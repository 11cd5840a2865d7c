"""``python -m bench [--quick] [--only FIGURES]``: run the figures and print the results tables.

Each figure runs on its own; one that fails prints its error and the others still run. All the
processes a figure started are ended (by PID) when it finishes, and the runner checks at the end
that none is left. The full Markdown report is also written to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import attach as attach_bench
from . import coldstart, memory, overhead, pipeline, procs, projects, tapcost, ui, websocket
from . import layer as layer_bench
from . import otlp as otlp_bench
from . import workers as workers_bench
from .load import tool_name
from .report import environment, markdown_table

FIGURES = (
    "overhead",
    "tapcost",
    "pipeline",
    "ui",
    "memory",
    "coldstart",
    "ws",
    "attach",
    "layer",
    "otlp",
    "workers",
)


@dataclass(frozen=True)
class Plan:
    """How much of everything to do: ``QUICK`` (< 2 min) or ``FULL`` (< 15 min)."""

    overhead_rounds: int
    overhead_seconds: float
    overhead_all_views: bool
    tapcost_blocks: int
    capacity_events: int
    overload_events: int
    overload_pause_s: float
    count_requests: int
    ui_seconds: float
    memory_requests: int
    memory_budget_s: float
    coldstart_runs: int
    coldstart_demo: bool
    ws_rounds: int
    ws_messages: int
    ws_burst: int


QUICK = Plan(
    overhead_rounds=2, overhead_seconds=1, overhead_all_views=False, tapcost_blocks=10,
    capacity_events=30_000, overload_events=130_000, overload_pause_s=4.5, count_requests=1_000,
    ui_seconds=5, memory_requests=10_000, memory_budget_s=25,
    coldstart_runs=2, coldstart_demo=False, ws_rounds=2, ws_messages=100, ws_burst=300,
)  # fmt: skip
FULL = Plan(
    overhead_rounds=6, overhead_seconds=1.5, overhead_all_views=True, tapcost_blocks=80,
    capacity_events=100_000, overload_events=300_000, overload_pause_s=4.0, count_requests=5_000,
    ui_seconds=12, memory_requests=200_000, memory_budget_s=450,
    coldstart_runs=10, coldstart_demo=True, ws_rounds=5, ws_messages=300, ws_burst=1000,
)  # fmt: skip


class Runner:
    def __init__(self, plan: Plan, args: argparse.Namespace, tmp: Path) -> None:
        self.plan = plan
        self.args = args
        self.tmp = tmp
        self.sections: list[str] = []
        self._projects: dict[str, projects.Project] = {}

    def project(self, name: str) -> projects.Project:
        if name not in self._projects:
            make: Callable[[Path], projects.Project] = getattr(projects, name)
            self._projects[name] = make(self.tmp)
        return self._projects[name]

    def emit(self, title: str, rows: list[list[str]], note: str = "") -> None:
        text = f"### {title}\n\n{markdown_table(rows)}\n" + (f"\n{note}\n" if note else "")
        self.sections.append(text)
        print("\n" + text, flush=True)

    # -- figures ---------------------------------------------------------------------------------

    def overhead(self) -> None:
        p, a = self.plan, self.args
        results = []
        for name in ("demo", "startproject"):
            project = self.project(name)
            views = list(project.views)
            if not p.overhead_all_views and name == "startproject":
                views = views[:1]
            results += overhead.measure_project(
                project, self.tmp, rounds=p.overhead_rounds, seconds=p.overhead_seconds,
                connections=a.connections, prefer=a.tool, views=views,
            )  # fmt: skip
        self.emit(
            "1. Instrumentation overhead (req/s, median of rounds; ratio = asgi-dash / uvicorn, "
            "median of per-round pairs, min-max in brackets)",
            overhead.table(results),
            f"{p.overhead_rounds} interleaved rounds x {p.overhead_seconds:g} s per view and "
            f"server, {a.connections} connections, load generator {results[0].tool}.",
        )

    def tapcost(self) -> None:
        blocks = self.plan.tapcost_blocks
        results = []
        notes = []
        for name in ("demo", "startproject"):
            rows, sql = tapcost.measure(
                self.project(name), blocks=blocks, sql_statements=200 if name == "demo" else 0
            )
            results += rows
            if sql is not None:
                notes.append(tapcost.sql_note(sql))
        self.emit(
            "1b. What the instrumentation costs a request (no server: the ASGI app called "
            "directly, raw vs tapped, CPU time of all threads)",
            tapcost.table(results),
            f"{blocks} alternating blocks of 20 requests per view and variant, in one process "
            "per project. " + " ".join([*notes, tapcost.timeline_note(results)]),
        )

    def layer(self) -> None:
        blocks = max(4, self.plan.tapcost_blocks // 4)
        self.emit(
            "10. The channel-layer tap (instrument/layer.py): CPU per call, raw vs tapped",
            layer_bench.table(layer_bench.measure_in_child(blocks=blocks)),
            f"{blocks} alternating blocks per operation in one child process; Redis against a "
            "local redis-server; a request that uses no layer pays nothing (see bench/layer.py).",
        )

    def attach(self) -> None:
        blocks = max(10, self.plan.tapcost_blocks // 2)
        rows = attach_bench.measure(self.project("demo"), blocks=blocks)
        self.emit(
            "8. The attach wrapper (asgi_dashboard.attach): CPU per request with no collector "
            "listening, and with one (asgi-dash collect) against the child's tap",
            attach_bench.table(rows),
            f"{blocks} rotating blocks of {attach_bench.BLOCK} requests per variant, in one "
            "process; see bench/attach.py. " + attach_bench.note(rows),
        )

    def pipeline(self) -> None:
        p = self.plan
        results = [pipeline.capacity(p.capacity_events)]
        results.append(pipeline.capacity(p.overload_events, pause_s=p.overload_pause_s))
        results.append(pipeline.runtime_count(self.project("tiny"), "/ahello/", p.count_requests))
        cpu = results[0]
        self.emit(
            "2. Event pipeline (child tap -> pipe -> decoder -> parent store)",
            pipeline.table(results),
            f"Capacity run CPU: producer child {cpu.child_cpu_s / cpu.produced * 1e6:.0f} us/event "
            f"(tap + encode + write), parent {cpu.parent_cpu_s / cpu.produced * 1e6:.0f} us/event "
            "(read + decode + Dashboard.ingest).",
        )

    def ui(self) -> None:
        r = ui.run(
            self.project("tiny"), "/ahello/", seconds=self.plan.ui_seconds,
            connections=self.args.connections, prefer=self.args.tool,
        )  # fmt: skip
        self.emit("3. The UI under load (TUI via run_test, child-mode server)", ui.table(r))

    def memory(self) -> None:
        p, a = self.plan, self.args
        r = memory.run(
            self.project("tiny"), "/ahello/",
            target=a.memory_requests or p.memory_requests,
            budget_s=a.memory_budget or p.memory_budget_s,
            chunk_s=3, connections=a.connections, prefer=a.tool,
        )  # fmt: skip
        self.emit("4. Memory (VmRSS) at checkpoints, default history (5,000)", memory.table(r))

    def coldstart(self) -> None:
        names = ["startproject", "demo"] if self.plan.coldstart_demo else ["startproject"]
        results = [
            coldstart.measure(self.project(n), self.tmp, runs=self.plan.coldstart_runs)
            for n in names
        ]
        self.emit("5. Cold start: process start to first 2xx (median)", coldstart.table(results))

    def ws(self) -> None:
        project = self.project("demo")
        servers: dict[str, procs.Server] = {}
        try:
            servers["uvicorn"] = procs.start_uvicorn(project, self.tmp)
            servers["asgi-dash child"] = procs.start_asgi_dash(project, self.tmp, in_process=False)
            servers["asgi-dash in-process"] = procs.start_asgi_dash(
                project, self.tmp, in_process=True
            )
            p = self.plan
            r = websocket.measure(
                {k: s.url for k, s in servers.items()},
                rounds=p.ws_rounds, n=p.ws_messages, burst=p.ws_burst,
            )  # fmt: skip
        finally:
            for s in servers.values():
                procs.stop_server(s)
        self.emit(
            "6. WebSocket echo (/ws/echo/ of the demo)",
            websocket.table(r),
            f"{p.ws_rounds} interleaved rounds; per round {p.ws_messages} sequential round trips "
            f"and a pipelined burst of {p.ws_burst} messages on one connection.",
        )

    def otlp(self) -> None:
        p, a = self.plan, self.args
        rounds = max(3, p.overhead_rounds)
        results = otlp_bench.measure(
            self.project("demo"), self.tmp, rounds=rounds, seconds=p.overhead_seconds,
            connections=a.connections, prefer=a.tool,
        )  # fmt: skip
        self.emit(
            "9. OTLP export (--otlp): CPU per request of the server + dashboard processes, "
            "export on vs off (on/off: median of per-round pairs, min-max in brackets)",
            otlp_bench.table(results),
            f"{rounds} alternating rounds x {p.overhead_seconds:g} s per view, {a.connections} "
            "connections; the receiver accepts and discards; see bench/otlp.py.",
        )

    def workers(self) -> None:
        p, a = self.plan, self.args
        rounds, seconds = max(4, p.ws_rounds), 2 * p.overhead_seconds
        sides = workers_bench.measure(
            self.project("demo"), self.tmp, rounds=rounds, seconds=seconds,
            connections=a.connections,
        )  # fmt: skip
        self.emit(
            f"11. --workers 2 vs --workers 1 on a CPU-bound view (demo {workers_bench.CPU_PATH}; "
            "target >= 1.6x on 2 cores, one event per request)",
            workers_bench.table(sides),
            f"Both servers up side by side, {rounds} alternating rounds x {seconds:g} s, "
            f"{a.connections} keep-alive connections from the asyncio client (it shares the "
            "2 cores); latency per request over all rounds.",
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smoke run, under 2 minutes")
    ap.add_argument("--only", default=",".join(FIGURES), help=f"comma list of {FIGURES}")
    ap.add_argument("--tool", choices=("auto", "wrk", "pyclient"), default="auto",
                    help="load generator (auto: wrk if installed)")  # fmt: skip
    ap.add_argument("--connections", type=int, default=8, help="HTTP connections (default 8)")
    ap.add_argument("--memory-requests", type=int, default=0, help="memory figure target")
    ap.add_argument("--memory-budget", type=float, default=0, help="memory figure seconds cap")
    ap.add_argument("--out", type=Path, default=None, help="also write the report here (.md)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    wanted = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(wanted) - set(FIGURES)
    if unknown:
        print(f"unknown figure(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    tool = tool_name(args.tool)
    if tool != "wrk":
        print("wrk not found (apt-get install wrk): using the bounded asyncio client instead, "
              "which may itself be the bottleneck.", file=sys.stderr)  # fmt: skip
    mode = "quick" if args.quick else "full"
    header = environment(tool, mode)
    print(header, flush=True)
    started = time.monotonic()
    failed = False
    with tempfile.TemporaryDirectory(prefix="asgi-dash-bench-") as tmp:
        runner = Runner(plan, args, Path(tmp))
        try:
            for figure in wanted:
                t0 = time.monotonic()
                print(f"\n== {figure} ...", flush=True)
                try:
                    getattr(runner, figure)()
                except Exception:
                    failed = True
                    runner.emit(f"{figure}: FAILED", [["error"], [traceback.format_exc(limit=3)]])
                finally:
                    procs.stop_all()
                print(f"   ({figure}: {time.monotonic() - t0:.0f} s)", flush=True)
        finally:
            procs.stop_all()
            left = procs.leftovers()
    took = time.monotonic() - started
    footer = f"Total {took:.0f} s. Processes left running: {left or 'none'}."
    print("\n" + footer)
    if args.out:
        body = "\n".join(runner.sections)
        args.out.write_text(f"## Results ({mode} run)\n\n{header}\n\n{body}\n{footer}\n")
        print(f"written to {args.out}")
    return 1 if failed or left else 0
