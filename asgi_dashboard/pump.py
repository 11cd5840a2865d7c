"""How the runtime's events reach the model: buffered, then flushed in bounded chunks.

:class:`EventBuffer` is the bookkeeping of the app's event pump (no Textual, no timers of its
own): the app asks it when to flush (:meth:`EventBuffer.add`) and for the next chunk
(:meth:`EventBuffer.take`), and schedules the flushes on its own loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from .events import Event

#: Seconds between flushes of buffered events to the UI, and the most events per flush.
FLUSH_INTERVAL = 0.05
#: Under sustained load (the last flush carried more than BUSY_BATCH events) the log refreshes
#: at most this often: table updates dominate the UI's CPU then (bench figure 3), and fewer,
#: larger batches leave the loop free for key presses. Stats and history lose nothing.
FLUSH_INTERVAL_BUSY = 0.2
BUSY_BATCH = 20
FLUSH_CHUNK = 2000


class EventBuffer:
    """Events waiting for the next flush, and when that flush should run."""

    __slots__ = ("interval", "last_flush", "pending", "scheduled")

    def __init__(self) -> None:
        self.pending: deque[Event] = deque()
        #: A flush is scheduled (or running); new events wait for it.
        self.scheduled = False
        self.last_flush = 0.0
        self.interval = FLUSH_INTERVAL

    def add(self, batch: Sequence[Event], now: float) -> float | None:
        """Buffer ``batch``; the delay before a flush should run, or None if one is scheduled.

        Flush at once after a quiet period (low latency for a single request), otherwise at
        most every ``interval`` (a burst becomes a few large batches, not thousands).
        """
        self.pending.extend(batch)
        if self.scheduled:
            return None
        self.scheduled = True
        return max(0.0, self.last_flush + self.interval - now)

    def take(self, now: float) -> list[Event]:
        """The next chunk to ingest (at most :data:`FLUSH_CHUNK` events)."""
        self.last_flush = now
        pending = self.pending
        chunk = [pending.popleft() for _ in range(min(FLUSH_CHUNK, len(pending)))]
        self.interval = FLUSH_INTERVAL_BUSY if len(chunk) > BUSY_BATCH else FLUSH_INTERVAL
        return chunk

    def more(self) -> bool:
        """After a chunk: whether another flush must follow (else none is scheduled any more)."""
        self.scheduled = bool(self.pending)
        return self.scheduled
