"""Figure 2: the event pipeline, child tap -> pipe -> decoder -> parent store, with count checks.

Two measurements:

* **capacity** (:func:`capacity`): ``bench.pipeline_producer`` runs the real
  ``InstrumentedApp`` + ``PipeSink`` in a child process; this process reads the pipe with the
  supervisor's own :class:`~asgi_dashboard.runtime.supervisor.EventPipeReader` and ingests every
  batch into the UI's data layer (:class:`asgi_dashboard.model.Dashboard`: ring buffer, per-view
  stats). events/s = events received / (last event received - first event produced). The count
  check: received ``RequestFinished`` == produced, ids all distinct.
* **overload** (same function, ``pause_s`` > 0): the parent does not read for a while, so the
  pipe fills, the sink's queue reaches ``max_pending`` and the sink drops. Check: received +
  the counts reported by ``EventsDropped`` == produced (dropped, but never silently).
* **real server** (:func:`runtime_count`): ``make_runtime(config, on_events)`` in this process
  (child mode: the real supervisor, child, uvicorn, Django), a bounded exact-count client in
  another process; check that every request the client completed has exactly one event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, replace

from asgi_dashboard.config import DashboardConfig, discover
from asgi_dashboard.events import Event, EventsDropped, RequestFinished, ServerStarted
from asgi_dashboard.model import Dashboard
from asgi_dashboard.runtime import make_runtime
from asgi_dashboard.runtime.generation import EventPipeReader

from . import procs
from .projects import REPO, Project


@dataclass
class PipelineResult:
    label: str
    produced: int
    received: int
    dropped: int
    distinct_ids: int
    seconds: float
    produce_s: float = 0.0
    #: CPU seconds of this (parent) process and of the producer child during the run.
    parent_cpu_s: float = 0.0
    child_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.received / self.seconds if self.seconds else 0.0

    @property
    def unaccounted(self) -> int:
        return self.produced - self.received - self.dropped


class _Counter:
    """The parent's store plus the counts the checks need."""

    def __init__(self) -> None:
        self.dashboard = Dashboard()
        self.received = 0
        self.dropped = 0
        self.ids: set[str] = set()
        self.last = 0.0

    def __call__(self, batch: list[Event]) -> None:
        self.dashboard.ingest(batch)
        for event in batch:
            if isinstance(event, RequestFinished):
                self.received += 1
                self.ids.add(event.id)
            elif isinstance(event, EventsDropped):
                self.dropped += event.count
        self.last = time.time()


async def _capacity(n: int, pause_s: float, rate: float) -> PipelineResult:
    loop = asyncio.get_running_loop()
    cpu0 = time.process_time()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    read_fd, write_fd = os.pipe()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.pipeline_producer", str(n), str(write_fd), str(rate),
        pass_fds=(write_fd,), stdout=asyncio.subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    os.close(write_fd)
    procs.register_pid(proc.pid)
    counter = _Counter()
    closed: asyncio.Future[None] = loop.create_future()
    assert proc.stdout is not None
    try:
        if pause_s:
            # Do not read: the pipe fills, the writer blocks, the queue grows past max_pending.
            await asyncio.sleep(pause_s)
        _transport, _ = await loop.connect_read_pipe(
            lambda: EventPipeReader(counter, closed), os.fdopen(read_fd, "rb", buffering=0)
        )
        produced = json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))
        await asyncio.wait_for(asyncio.shield(closed), 120)  # EOF: the producer exited
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    label = f"capacity, parent paused {pause_s:g} s" if pause_s else "capacity"
    if rate:
        label += f", paced {rate:,.0f}/s"
    return PipelineResult(
        label=label,
        produced=n,
        received=counter.received,
        dropped=counter.dropped,
        distinct_ids=len(counter.ids),
        seconds=counter.last - produced["started"],
        produce_s=produced["produce_s"],
        parent_cpu_s=time.process_time() - cpu0,
        child_cpu_s=_cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(children0),
    )


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def capacity(n: int, *, pause_s: float = 0.0, rate: float = 0.0) -> PipelineResult:
    return asyncio.run(_capacity(n, pause_s, rate))


async def _runtime_count(project: Project, path: str, n: int, connections: int) -> PipelineResult:
    project_dir, settings, source, _ = discover(project.dir, settings=project.settings)
    config = DashboardConfig(
        project_dir=project_dir, settings_module=settings, settings_source=source, port=0
    )
    config = replace(config, reload=False, env=dict(project.env))
    counter = _Counter()
    started = asyncio.Event()

    def on_events(batch: list[Event]) -> None:
        counter(batch)
        if any(isinstance(e, ServerStarted) for e in batch):
            started.set()

    runtime = make_runtime(config, on_events)  # type: ignore[arg-type]
    await runtime.start()
    try:
        await asyncio.wait_for(started.wait(), 30)
        if runtime.pid:
            procs.register_pid(runtime.pid)
        url = f"{runtime.url}{path}"
        before = counter.received
        t0 = time.time()
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.load", url, str(n), str(connections),
            stdout=asyncio.subprocess.PIPE, cwd=REPO,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(client.communicate(), 300)
        done = json.loads(out)
        # Bounded wait for the last events to cross the pipe.
        deadline = time.monotonic() + 10
        while counter.received - before < done["requests"] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # and a little more, to catch duplicates
    finally:
        with contextlib.suppress(Exception):
            await runtime.stop()
    return PipelineResult(
        label=f"real server ({project.name} {path}, child mode)",
        produced=done["requests"],
        received=counter.received - before,
        dropped=counter.dropped,
        distinct_ids=len(counter.ids) - before,
        seconds=counter.last - t0,
    )


def runtime_count(project: Project, path: str, n: int, connections: int = 16) -> PipelineResult:
    return asyncio.run(_runtime_count(project, path, n, connections))


def table(results: list[PipelineResult]) -> list[list[str]]:
    rows = [["run", "produced", "received", "dropped (reported)", "unaccounted", "events/s",
             "target"]]  # fmt: skip
    for r in results:
        exact = r.received == r.produced and r.distinct_ids == r.received
        if r.dropped:
            verdict = "drops reported, none silent" if r.unaccounted == 0 else "SILENT LOSS"
        elif r.label.startswith("real"):
            verdict = "1 event/request" if exact else "COUNT MISMATCH"
        else:
            ok = exact and r.rate >= 20_000
            verdict = (">=20k/s, 0 lost: met" if ok else "NOT met") + f" ({r.distinct_ids} ids)"
        rows.append(
            [r.label, str(r.produced), str(r.received), str(r.dropped), str(r.unaccounted),
             f"{r.rate:,.0f}", verdict]
        )  # fmt: skip
    return rows
