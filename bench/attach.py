"""Figure 8: what the attach wrapper costs a request, with and without a collector listening.

Measured as figure 1b (:mod:`bench.tapcost`) is: one process (this module run as
``python -m bench.attach SPEC``) loads the demo and calls its ASGI application directly, in
alternating blocks of 20 requests, and compares the CPU time per request
(``time.process_time``: all threads, so the sender thread that encodes and writes the events is
counted). Two parts, in this order:

1. **No collector** (the socket path does not exist): the raw application against
   ``AttachedApp(application)``. The Django hooks are not installed (the wrapper installs them
   only once a collector listens), as in a deployment nobody is watching. Target: within 1%.
2. **A collector listening** (a real ``asgi-dash collect --headless --json`` in another
   process, its output to /dev/null): raw, the child server's tap (``InstrumentedApp`` over a
   ``PipeSink`` whose pipe a thread drains: figure 1b's "tapped") and the attached application,
   in rotating order. Target: the attached application costs no more than the tap (the same tap,
   the frames written to a socket instead of a pipe).

   Measured twice: first against a null listener (answers the hello, discards the rest: the
   wrapper's own cost), then against the real collector, whose decoding and printing of every
   event share the machine's two cores with the measured process during the attached blocks.

The collector's own CPU is in its process, not counted, as the dashboard's is not in figure 1b.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

from .projects import REPO, Project
from .tapcost_worker import _request

BLOCK = 20
PATHS = ("/sync/?ms=0", "/async/?ms=0")


@dataclass
class AttachCost:
    view: str
    #: CPU µs per request: raw, attached with no collector, raw (part 2), tap, attached.
    raw_us: float
    idle_us: float
    idle_ratio: float
    raw2_us: float
    tap_us: float
    attached_us: float
    tap_ratio: float
    attached_ratio: float
    #: With a listener that only discards: tap CPU / attached CPU (from the median ratios).
    null_ratio: float
    #: ns the wrapper adds to a call with no collector (a no-op app, best of 5).
    fast_path_ns: float = 0.0


async def _blocks(apps: dict[str, Any], path: str, blocks: int) -> dict[str, Any]:
    """CPU per request of each app, and per app the median over blocks of raw CPU / its CPU."""
    names = list(apps)
    for app in apps.values():  # warm-up: imports, caches, the DB connection
        for _ in range(BLOCK):
            await _request(app, path)
    cpu = dict.fromkeys(names, 0.0)
    ratios: dict[str, list[float]] = {n: [] for n in names}
    for b in range(blocks):
        took = {}
        order = names[b % len(names) :] + names[: b % len(names)]  # rotate: no fixed position
        for name in order:
            t0 = time.process_time()
            for _ in range(BLOCK):
                await _request(apps[name], path)
            took[name] = time.process_time() - t0
            cpu[name] += took[name]
        for name in names:
            ratios[name].append(took[names[0]] / took[name])
    n = blocks * BLOCK
    return {
        name: {"us": cpu[name] / n * 1e6, "ratio": sorted(r)[len(r) // 2]}
        for name, r in ratios.items()
    }


def _pipe_sink() -> Any:
    """The child server's sink, its pipe drained by a thread (figure 1b's "tapped")."""
    from asgi_dashboard.instrument import PipeSink

    read_end, write_end = os.pipe()

    def drain() -> None:
        while os.read(read_end, 1 << 16):
            pass

    threading.Thread(target=drain, daemon=True).start()
    return PipeSink(write_end)


def _start_listener(sock: str, *, real: bool) -> subprocess.Popen[bytes]:
    """``asgi-dash collect`` (``real``), or a listener that answers the hello and discards the
    rest (the wrapper's own cost, without the collector's decoding on the same two cores)."""
    env = {**os.environ, "ASGI_DASH_COLLECT": sock}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    command = ["-m", "asgi_dashboard", "collect", "--headless", "--json"]
    return subprocess.Popen(
        [sys.executable, *(command if real else ["-m", "bench.attach", "--listen", sock])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def _listen(path: str) -> None:
    """``python -m bench.attach --listen PATH``: the null listener (see _start_listener)."""

    def serve(conn: socket.socket) -> None:
        if conn.recv(1 << 16):
            conn.sendall(b"1\n")  # worker 1: the wrapper's hello is answered
            while conn.recv(1 << 16):
                pass

    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    while True:
        threading.Thread(target=serve, args=(server.accept()[0],), daemon=True).start()


async def _connected(attached: Any, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while attached.start().connected != up:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the wrapper's connection not {'up' if up else 'down'} in time")
        await asyncio.sleep(0.05)


async def _fast_path_ns(attached_of: Any, calls: int = 100_000) -> float:
    """What the wrapper adds to one call with no collector, in ns: a no-op ASGI app called
    directly and wrapped, best of 5 runs each (noise only ever adds time)."""

    async def noop(scope: Any, receive: Any, send: Any) -> None:
        pass

    wrapped = attached_of(noop)
    scope = {"type": "http"}
    best: dict[str, float] = {}
    for _ in range(5):
        for name, app in (("raw", noop), ("attached", wrapped)):
            t0 = time.perf_counter_ns()
            for _ in range(calls):
                await app(scope, None, None)
            took = (time.perf_counter_ns() - t0) / calls
            best[name] = min(best.get(name, took), took)
    return best["attached"] - best["raw"]


async def _worker(spec: dict[str, Any]) -> list[dict[str, Any]]:
    module, _, attr = spec["asgi"].partition(":")
    raw = getattr(importlib.import_module(module), attr)
    from asgi_dashboard.attaching.wrapper import AttachedApp
    from asgi_dashboard.instrument import InstrumentedApp, install

    folder = tempfile.mkdtemp(prefix="adb-")
    sock = os.path.join(folder, "c.sock")
    attached = AttachedApp(raw, sock, project_dir=spec["project_dir"])
    fast_ns = await _fast_path_ns(lambda app: AttachedApp(app, sock))
    idle = [await _blocks({"raw": raw, "attached": attached}, p, spec["blocks"]) for p in PATHS]
    install(spec["project_dir"])
    tapped = InstrumentedApp(raw, _pipe_sink(), generation=1, project_dir=spec["project_dir"])
    apps = {"raw": raw, "tap": tapped, "attached": attached}
    busy: dict[str, list[dict[str, Any]]] = {}
    for real in (False, True):
        listener = _start_listener(sock, real=real)
        try:
            await _connected(attached, True)
            busy["real" if real else "null"] = [
                await _blocks(apps, p, spec["blocks"]) for p in PATHS
            ]
        finally:
            listener.terminate()
            listener.wait(10)
            with contextlib.suppress(OSError):
                os.unlink(sock)  # the null listener leaves its socket file
        await _connected(attached, False)
    return [
        {"path": p, "idle": i, "busy": b, "null": n, "fast_path_ns": fast_ns}
        for p, i, b, n in zip(PATHS, idle, busy["real"], busy["null"], strict=True)
    ]


def measure(project: Project, *, blocks: int) -> list[AttachCost]:
    spec = {
        "project_dir": str(project.dir),
        "asgi": project.asgi,
        "blocks": blocks,
    }
    env = {**os.environ, **project.env, "DJANGO_SETTINGS_MODULE": project.settings}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("ASGI_DASH_COLLECT", None)
    out = subprocess.run(
        [sys.executable, "-m", "bench.attach", json.dumps(spec)],
        cwd=project.dir, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"attach worker failed: {out.stderr.strip()[-800:]}")
    rows = []
    for r in json.loads(out.stdout.strip().splitlines()[-1]):
        idle, busy = r["idle"], r["busy"]
        rows.append(
            AttachCost(
                f"demo {r['path']}",
                idle["raw"]["us"],
                idle["attached"]["us"],
                idle["attached"]["ratio"],
                busy["raw"]["us"],
                busy["tap"]["us"],
                busy["attached"]["us"],
                busy["tap"]["ratio"],
                busy["attached"]["ratio"],
                r["null"]["attached"]["ratio"] / r["null"]["tap"]["ratio"],
                r["fast_path_ns"],
            )
        )
    return rows


def note(rows: list[AttachCost]) -> str:
    """The fast path alone: what the wrapper adds to a call when no collector listens."""
    ns = rows[0].fast_path_ns
    share = ns / 1000 / rows[0].raw_us * 100
    return (
        f"With no collector the wrapper adds {ns:.0f} ns to a call (a no-op ASGI app, best of 5 "
        f"runs of 100,000 calls), {share:.3f}% of the raw demo request's CPU."
    )


def table(rows: list[AttachCost]) -> list[list[str]]:
    out = [
        [
            "view",
            "raw µs",
            "attached, no collector µs",
            "raw/attached (target ≥ 0.99)",
            "tap µs (child)",
            "attached, collector µs",
            "raw/tap",
            "raw/attached (target ≥ raw/tap)",
            "tap/attached CPU, null listener (target ≥ 1)",
        ]
    ]
    for r in rows:
        out.append(
            [
                r.view,
                f"{r.raw_us:.1f}",
                f"{r.idle_us:.1f}",
                f"{r.idle_ratio:.3f}",
                f"{r.tap_us:.1f}",
                f"{r.attached_us:.1f}",
                f"{r.tap_ratio:.3f}",
                f"{r.attached_ratio:.3f}",
                f"{r.null_ratio:.3f}",
            ]
        )
    return out


def main() -> None:
    if sys.argv[1] == "--listen":
        _listen(sys.argv[2])
        return
    spec = json.loads(sys.argv[1])
    sys.path.insert(0, spec["project_dir"])
    result = asyncio.run(_worker(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
