"""Figure 10: ``asgi-dash --workers 2`` against ``--workers 1`` on a CPU-bound view.

Both servers run side by side (``--headless --json --no-reload`` on the demo, events to a log
file); the load goes to one at a time, alternating per round, so both see the same machine. The
view is the demo's ``/cpu/?n=`` (pure-Python work on the event loop, no thread hop): one process
is bound by its one core, two can use both. The client is a bounded asyncio HTTP/1.1 keep-alive
client (``--connections`` connections); it measures each request's latency (p50, p95).

"events == requests": after each load, the server's ``request`` events for the view are counted
in its JSON log (bounded wait) and compared with the responses the client read. Every process
started here is ended by its PID (:mod:`.procs`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .projects import Project
from .stats import median, percentile

#: The CPU-bound view and its work per request (~3-6 ms of Python on this machine).
CPU_PATH = "/cpu/?n=20000"


@dataclass
class Side:
    """One server under test and what its rounds measured."""

    workers: int
    server: procs.Server
    rps: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    requests: int = 0
    events: int = 0
    errors: int = 0


def start(project: Project, log_dir: Path, workers: int, timeout: float = 60.0) -> procs.Server:
    """``asgi-dash --headless --json --no-reload --workers N`` on ``project``, every worker up."""
    log = log_dir / f"asgi-dash-workers{workers}-{time.monotonic_ns()}.jsonl"
    cmd = [
        procs.PYTHON, "-m", "asgi_dashboard", "--headless", "--json", "--no-reload",
        "--port", "0", "--workers", str(workers), str(project.dir),
    ]  # fmt: skip
    proc = procs._spawn(cmd, cwd=project.dir, env=procs.base_env(project), log=log)
    deadline = time.monotonic() + timeout
    started: dict[int, dict[str, object]] = {}
    while len(started) < workers:
        if time.monotonic() > deadline or proc.poll() is not None:
            procs.stop(proc)
            raise procs.ServerError(f"{workers} workers did not all start; see {log}")
        for event in _events(log, "server-started"):
            started[int(event.get("worker", 0))] = event  # type: ignore[call-overload]
        time.sleep(0.05)
    pids = [int(e["pid"]) for e in started.values()]  # type: ignore[call-overload]
    for pid in pids:
        procs.register_pid(pid)
    url = str(next(iter(started.values()))["url"])
    procs.wait_http(url + project.ready_path, timeout)
    return procs.Server(f"--workers {workers}", proc, url, log, pids[0], [proc.pid, *pids])


def _events(log: Path, name: str) -> list[dict[str, object]]:
    found = []
    marker = f'"event":"{name}"'.encode()
    with log.open("rb") as f:
        for line in f:
            if marker in line and line.endswith(b"\n"):
                found.append(json.loads(line))
    return found


def count_events(log: Path, path: str) -> int:
    return sum(1 for e in _events(log, "request") if e.get("path") == path)


async def _load(url: str, connections: int, seconds: float) -> tuple[int, int, list[float]]:
    """Keep-alive GETs of CPU_PATH for ``seconds``: (responses, errors, latencies in ms)."""
    host, port, _ = procs._split(url)
    request = f"GET {CPU_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    answered = errors = 0

    async def client() -> None:
        nonlocal answered, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.lower().split(b"\r\n")
                length = next((int(h[15:]) for h in lines if h.startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - t0) * 1e3)
                answered += 1
                errors += head[9:10] != b"2"
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(connections))), seconds + 30)
    return answered, errors, latencies


def run_round(side: Side, connections: int, seconds: float) -> None:
    before = count_events(side.server.log, "/cpu/")
    t0 = time.perf_counter()
    answered, errors, latencies = asyncio.run(_load(side.server.url, connections, seconds))
    side.rps.append(answered / (time.perf_counter() - t0))
    side.latencies_ms += latencies
    side.requests += answered
    side.errors += errors
    deadline = time.monotonic() + 10
    while (events := count_events(side.server.log, "/cpu/") - before) < answered:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    side.events += events


def measure(
    project: Project, log_dir: Path, *, rounds: int, seconds: float, connections: int
) -> list[Side]:
    """Both servers up at once; ``rounds`` alternating loads of ``seconds`` each."""
    sides: list[Side] = []
    try:
        for workers in (1, 2):
            sides.append(Side(workers, start(project, log_dir, workers)))
        for side in sides:  # warm-up: first requests import and cache what the view needs
            asyncio.run(_load(side.server.url, 2, 0.5))
        for i in range(rounds):
            for side in sides if i % 2 == 0 else reversed(sides):
                run_round(side, connections, seconds)
    finally:
        for side in sides:
            procs.stop_server(side.server)
    return sides


def table(sides: list[Side]) -> list[list[str]]:
    one = median(sides[0].rps)
    rows = [["server", "req/s (median)", "vs 1 worker", "p50 ms", "p95 ms", "events == requests"]]
    for side in sides:
        lat = sorted(side.latencies_ms)
        rps = median(side.rps)
        check = "yes" if side.events == side.requests and not side.errors else "NO"
        rows.append([
            f"--workers {side.workers}", f"{rps:.0f}", f"{rps / one if one else 0.0:.2f}x",
            f"{percentile(lat, 50):.1f}", f"{percentile(lat, 95):.1f}",
            f"{check} ({side.events} / {side.requests}, {side.errors} errors)",
        ])  # fmt: skip
    return rows


__all__ = ["CPU_PATH", "Side", "measure", "table"]
