"""``asgi-dash --workers N``: each generation is N server processes on the one socket.

:class:`WorkersRuntime` is :class:`.supervisor.ChildRuntime` with a generation made of N workers
(:attr:`WorkersRuntime.members`, by index 1..N). Every worker inherits the listening socket the
dashboard bound once, so the kernel hands each connection to whichever worker accepts first and
none is refused, during a reload too. Each worker has its own event, control, stdout and stderr
pipes (one :class:`.generation.ChildProcess` each, ``worker`` set) and puts its index on every
event (:mod:`..instrument.identity`, set from ``ServerSpec.worker``).

* **Start.** Generation 1's worker 1 is the process the CLI forked early (:mod:`.launch`); the
  others are spawned (there is no warm process yet). Later generations fork every worker from
  the warm process (:mod:`.warmclient`), the first fork rebuilding it when the change needs it.
* **Reload.** All workers of the serving generation stop accepting at once and drain in the
  background while the N new ones start (as with one process). ``ReloadFinished`` comes with
  the first new worker that serves: from then on the new code answers.
* **Templates.** Every worker resets its loaders; only worker 1 reports ``ReloadFinished``.
* **A worker crashes.** It is restarted in place, as gunicorn's arbiter does (same generation
  and index, forked from the warm process when there is one), after the crash policy's backoff
  (:class:`.crash.CrashPolicy`, shared by the workers: N quick crashes count as N). The 503
  stand-in answers on the socket only while no worker of the generation serves; otherwise the
  others keep serving and the crashed one's connections are the only ones lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time

from ..config import DashboardConfig
from ..events import Event, LogRecord, ReloadVia, ServerFailed, ServerStarted
from ..model.status import channel_layer_warning
from .base import EventCallback
from .folding import STUCK_START_S
from .generation import ChildProcess, DirectChild, EventPipeReader, pump_output
from .launch import GenerationPipes, Prespawned
from .reloader import Decision
from .spec import TemplatesCommand
from .starting import Launched
from .supervisor import ChildRuntime


class WorkersRuntime(ChildRuntime):
    """A supervised generation of ``config.workers`` server processes."""

    def __init__(self, config: DashboardConfig, on_events: EventCallback) -> None:
        super().__init__(config, on_events)
        self.count = max(1, config.workers)
        #: The serving (or starting) generation's workers, by index 1..N.
        self.members: dict[int, ChildProcess] = {}
        #: Crashed workers waiting for their backoff, by index.
        self._worker_restarts: dict[int, asyncio.Task[None]] = {}
        #: The in-memory channel layer warning went to the console (once per run).
        self._layer_warned = False

    # -- which processes are the generation ------------------------------------------------

    def _is_current(self, child: ChildProcess) -> bool:
        return self.members.get(child.worker) is child

    def serving_workers(self) -> list[ChildProcess]:
        """Workers of the current generation that serve now."""
        return [c for c in self.members.values() if c.started and not c.failed and not c.exited]

    def _draining(self) -> list[ChildProcess]:
        return [c for c in self.children if not self._is_current(c) and not c.exited]

    def _starting(self) -> bool:
        now = time.monotonic()
        return self._launching or any(
            c.starting and now - c.launched_at < STUCK_START_S for c in self.members.values()
        )

    # -- starting a generation ---------------------------------------------------------------

    async def _spawn(
        self,
        started_ns: int = 0,
        decision: Decision | None = None,
        *,
        manual: bool = False,
        why: str = "",
    ) -> None:
        assert self.sock is not None
        self._launching = True
        try:
            self._announce_generation()
            self.members = {}
            for index in range(1, self.count + 1):
                # Only the first fork rebuilds the warm process; the others fork the new one.
                first = index == 1
                launched = await self._start_worker(
                    index, decision if first else None, manual and first
                )
                if first and started_ns:
                    path: ReloadVia = "manual" if manual else launched.how
                    reason = "; ".join(r for r in (why, launched.reason) if r)
                    self.expect_generation(self.generation, path, started_ns, decision, reason)
        finally:
            self._launching = False
            self._wake.set()

    async def _adopt(self, early: Prespawned) -> None:
        """Generation 1: worker 1 is the CLI's early fork; the others are spawned now."""
        self._launching = True
        try:
            self._announce_generation()
            self.members = {}
            assert early.process is not None
            process = DirectChild(early.process)
            stdout, stderr = await process.readers()
            launched = Launched(process, stdout, stderr, early.how)
            await self._attach_worker(1, launched, early.event_r, early.control_w)
            for index in range(2, self.count + 1):
                await self._start_worker(index, None, False)
        finally:
            self._launching = False
            self._wake.set()

    async def _start_worker(self, index: int, decision: Decision | None, manual: bool) -> Launched:
        """Launch worker ``index`` of the current generation and read its pipes."""
        assert self.sock is not None
        pipes = GenerationPipes.open(self.config, self.sock, self.generation, worker=index)
        try:
            launched = await self._launch(pipes.spec, decision, manual)
        except BaseException:
            pipes.close_parent_ends()
            raise
        finally:
            pipes.close_child_ends()
        await self._attach_worker(index, launched, pipes.event_r, pipes.control_w)
        return launched

    async def _attach_worker(
        self, index: int, launched: Launched, event_r: int, control_w: int
    ) -> None:
        """As :meth:`.supervisor.ChildRuntime._attach`, for worker ``index``."""
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[None] = loop.create_future()
        child = ChildProcess(
            launched.process, self.generation, control_w, closed, how=launched.how, worker=index
        )
        self.children.add(child)
        self.members[index] = child
        self.current = child
        self.pid = self.members[min(self.members)].pid
        await loop.connect_read_pipe(
            lambda: EventPipeReader(lambda batch: self._from_child(child, batch), closed),
            os.fdopen(event_r, "rb", buffering=0),
        )
        child.tasks = [
            asyncio.create_task(pump_output(child, launched.stdout, "stdout", self.emit)),
            asyncio.create_task(pump_output(child, launched.stderr, "stderr", self.emit)),
        ]
        child.tasks.append(asyncio.create_task(self._watch_exit(child)))

    # -- replacing, templates, stopping ----------------------------------------------------------

    async def _replace_now(
        self, started_ns: int, decision: Decision | None, *, manual: bool, why: str = ""
    ) -> None:
        self._cancel_worker_restarts()
        self.state = "restarting"
        for old in list(self.members.values()):
            if not old.exited:
                # Stop accepting now, drain in the background (see ChildRuntime._replace_now).
                old.request_stop()
                self._reap_later(old)
        await self._spawn(started_ns, decision, manual=manual, why=why)

    def _reset_templates(self, decision: Decision) -> bool:
        """Every serving worker resets its loaders; the first one reports ReloadFinished."""
        workers = self.serving_workers()
        if not workers or len(workers) < len(self.members):
            return False  # a worker is starting or gone: a new generation is simpler
        payload: TemplatesCommand = {"t0_ns": decision.detected_ns, "paths": list(decision.paths)}
        sent = workers[0].send(b"templates " + json.dumps(payload).encode())
        quiet = json.dumps({**payload, "quiet": True}).encode()
        for worker in workers[1:]:
            worker.send(b"templates " + quiet)
        return sent

    def _cancel_worker_restarts(self) -> None:
        for task in self._worker_restarts.values():
            task.cancel()
        self._worker_restarts.clear()

    async def stop(self) -> None:
        self._cancel_worker_restarts()
        await super().stop()

    # -- what the workers report, and their exits ------------------------------------------------

    def _from_child(self, child: ChildProcess, batch: list[Event]) -> None:
        for event in list(batch):
            if isinstance(event, ServerStarted):
                warning = channel_layer_warning(event)
                if warning and not self._layer_warned:
                    self._layer_warned = True
                    batch.append(LogRecord(logger="asgi_dash", level="WARNING", message=warning))
                child.started = True
                child.started_at = time.monotonic()
                self._wake.set()
                if self.launcher is not None and self._prewarm is None:
                    self._prewarm = asyncio.create_task(self._build_warm(), name="build_warm")
                if self._is_current(child):
                    self.state = "running"
                    self._close_standin()  # a worker of the generation answers from now on
            elif isinstance(event, ServerFailed):
                child.failed = True
                self._wake.set()
                if self._is_current(child) and not self.serving_workers():
                    self.state = "failed"
                    self._close_standin()  # it serves its own error page
        self.deliver(batch)

    async def _watch_exit(self, child: ChildProcess) -> None:
        code = await child.process.wait()
        child.exited = True
        self._wake.set()
        current = self._is_current(child)
        crashed = current and not (child.stop_requested or child.failed or self._stopping)
        alone = not self.serving_workers()  # no other worker of the generation serves
        if crashed and alone:
            # Answer on the socket at once: connections would otherwise wait in the backlog.
            self._set_crash_page(child, code, None, crash_loop=False)
            await self._open_standin()
        await child.outputs_done()
        os.close(child.control_fd)
        self.children.discard(child)
        reason = child.stop_reason(self._stopping)
        restart_in: float | None = None
        crash_loop = False
        if reason == "crashed" and current and not self._stopping:
            ran = None if child.started_at is None else time.monotonic() - child.started_at
            restart_in = self.crashes.crashed(ran)
            crash_loop = restart_in is None
            if alone:
                self._set_crash_page(child, code, restart_in, crash_loop=crash_loop)
        elif crashed and alone:
            self._close_standin()  # it reported ServerFailed after all
        self.emit(child.stopped(code, reason, restart_in, crash_loop))
        if current and reason == "crashed":
            if not self.serving_workers():
                self.state = "crashed"
            if restart_in is not None and not self._stopping:
                self._worker_restarts[child.worker] = asyncio.create_task(
                    self._restart_worker(child, restart_in), name="restart_crashed_worker"
                )

    async def _restart_worker(self, crashed: ChildProcess, delay: float) -> None:
        """Start worker ``crashed.worker`` again in the same generation, after ``delay``."""
        await asyncio.sleep(delay)
        self._worker_restarts.pop(crashed.worker, None)
        if self._stopping or self.sock is None or not self._is_current(crashed):
            return  # stopping, or a reload has replaced the generation meanwhile
        self._launching = True
        try:
            with contextlib.suppress(OSError):  # reported as the worker staying down
                await self._start_worker(crashed.worker, None, False)
        finally:
            self._launching = False
            self._wake.set()


__all__ = ["WorkersRuntime"]
