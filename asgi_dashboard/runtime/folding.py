"""Folding a burst of saves into at most two restarts (the supervisor's side of
:class:`.base.FoldedReload`).

A change that arrives while a generation is starting (or while an older one is still draining)
is folded into one pending reload, applied once the starting generation has reported and the
changes have been quiet for :data:`FOLD_QUIET_S`: at most one generation drains beside the
serving one (and the warm process).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time

from .base import FoldedReload
from .generation import ChildProcess
from .reloader import Decision

#: A burst's folded reload waits until no change has arrived for this long (the burst is
#: over). Measured on a loaded 2-core machine: gaps of up to ~0.45 s inside a 1 s burst of saves.
FOLD_QUIET_S = 0.5
#: A generation that has not reported after this long is not waited for by a new change.
STUCK_START_S = 5.0


class ReloadFolding:
    """Mixed into :class:`.supervisor.ChildRuntime`: when a reload must wait, and applying the
    folded one once it need not."""

    children: set[ChildProcess]
    current: ChildProcess | None
    _stopping: bool
    #: Changes waiting for the starting generation, and the task that applies them; ``_wake``
    #: is set whenever a generation reports or exits.
    _folded: FoldedReload | None
    _folder: asyncio.Task[None] | None
    _wake: asyncio.Event
    #: A generation's process is being started (it has no ChildProcess yet).
    _launching: bool

    def _init_folding(self) -> None:
        self._folded = None
        self._folder = None
        self._wake = asyncio.Event()
        self._launching = False

    def _reset_templates(self, decision: Decision) -> bool:
        raise NotImplementedError

    async def _replace_now(
        self, started_ns: int, decision: Decision | None, *, manual: bool, why: str = ""
    ) -> None:
        raise NotImplementedError

    def _draining(self) -> list[ChildProcess]:
        return [c for c in self.children if c is not self.current and not c.exited]

    def _starting(self) -> bool:
        """A generation is being launched, or has not reported yet (and is not stuck)."""
        child = self.current
        return self._launching or (
            child is not None
            and child.starting
            and time.monotonic() - child.launched_at < STUCK_START_S
        )

    def _blocked(self) -> bool:
        """A new generation now would overlap one still starting, or add a second draining one."""
        return self._starting() or bool(self._draining())

    def _busy(self) -> bool:
        return self._folded is not None or self._blocked()

    def _fold(self, started_ns: int, decision: Decision | None, manual: bool, why: str) -> None:
        now = time.monotonic()
        if self._folded is None:
            self._folded = FoldedReload(started_ns, decision, manual, last_change=now, why=why)
        else:
            self._folded.add(started_ns, decision, manual, now)
            self._folded.why = self._folded.why or why
        self._folded.burst = self._folded.burst or self._starting()
        if self._folder is None or self._folder.done():
            self._folder = asyncio.create_task(self._apply_folded(), name="apply_folded_reload")

    async def _apply_folded(self) -> None:
        """Apply the folded reload once the runtime is free and the changes have gone quiet."""
        while not self._stopping and self._folded is not None:
            self._wake.clear()  # before looking: a report from now on wakes the wait below
            quiet = (
                self._folded.last_change + FOLD_QUIET_S - time.monotonic()
                if self._folded.burst
                else 0.0
            )
            if quiet <= 0 and not self._blocked():
                break
            # Woken when a generation reports or exits; the timeout re-checks quiet/stuck.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(quiet, 0.5) if quiet > 0 else 0.5)
        folded, self._folded = self._folded, None
        if folded is None or self._stopping:
            return
        decision = folded.decision
        if folded.count > 1 and decision is not None:
            decision = dataclasses.replace(
                decision,
                reason=f"{decision.reason} ({folded.count} changes folded into one reload)",
            )
        if (
            decision is not None
            and decision.action == "templates"
            and not folded.manual
            and self._reset_templates(decision)
        ):
            return
        await self._replace_now(folded.started_ns, decision, manual=folded.manual, why=folded.why)


__all__ = ["FOLD_QUIET_S", "STUCK_START_S", "ReloadFolding"]
