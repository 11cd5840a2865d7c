"""Where the server side's events go.

* :class:`PipeSink` (child process): events are appended to a deque by whoever produces them
  (the event loop, executor threads, logging) and a writer thread packs them in batches (one
  :mod:`~asgi_dashboard.eventpipe` frame each) and writes each batch with one ``os.write`` to
  the event pipe. The request path pays for one
  ``deque.append``; encoding and the syscall happen off the loop. Once woken, the writer waits
  ``batch_window`` (20 ms) before draining: waking it for every event made it compete for the
  GIL with the event loop once per request (measured with bench/: demo ``/sync/`` 0.89 -> 1.00
  of plain uvicorn's req/s, WebSocket echo round trip 1.46-1.74x -> 1.03-1.17x); the UI
  batches events every 50 ms anyway. If the parent stops reading
  and the queue passes ``max_pending``, further events are dropped *and counted*, and an
  :class:`~asgi_dashboard.events.EventsDropped` event reports the count (never silent loss).
* :class:`CallbackSink` (in-process mode): events are handed, in batches of up to 20 ms, to a
  callback on the event loop thread.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ..eventpipe import frame
from ..events import Event, EventsDropped


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...

    def close(self) -> None: ...


class PipeSink:
    """Batched, non-blocking writer of event frames to a file descriptor."""

    def __init__(
        self,
        fd: int,
        *,
        max_pending: int = 100_000,
        max_batch: int = 2000,
        batch_window: float = 0.02,
    ) -> None:
        self.fd = fd
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.batch_window = batch_window
        #: Events dropped since start (only producers write it; the writer reads it).
        self.dropped = 0
        self._reported = 0
        self._queue: collections.deque[Event] = collections.deque()
        self._wake = threading.Event()
        #: True while the writer holds events it has taken off the queue but not yet written.
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="asgi-dash-events", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> None:
        if len(self._queue) >= self.max_pending:
            self.dropped += 1
            return
        self._queue.append(event)
        # The writer clears the flag before draining; skip the lock when it is already set.
        if not self._wake.is_set():
            self._wake.set()

    def _drain(self) -> None:
        queue = self._queue
        while queue or self.dropped != self._reported:
            # Set before taking events off the queue, so flush() never sees "queue empty" while
            # a batch is still being encoded or written (it would let the process exit on it).
            self._busy = True
            pop = queue.popleft
            batch = [pop() for _ in range(min(len(queue), self.max_batch))]
            # Producers only ever increment ``dropped``; the writer keeps its own tally of what
            # it reported, so an increment racing with this read is reported next time.
            count = self.dropped - self._reported
            if count:
                self._reported += count
                batch.append(EventsDropped(count=count))
            self._write(frame(batch), len(batch))
        self._busy = False

    def _write(self, data: bytes, count: int) -> None:
        """Write one whole frame of ``count`` events (a subclass writes elsewhere, and counts
        the events of a frame it could not deliver: attaching/sender.py)."""
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def _run(self) -> None:
        try:
            while not self._closed:
                self._wake.wait()
                if self.batch_window and not self._closed:
                    # Let a batch gather: one wake-up (one GIL hand-off) per window, not per event.
                    time.sleep(self.batch_window)
                self._wake.clear()
                self._drain()
        except OSError:
            # The parent went away (EPIPE): nothing left to report to.
            self._closed = True

    def flush(self, timeout: float = 2.0) -> None:
        """Wait until the queue is written (used right before the process exits)."""
        deadline = threading.Event()
        for _ in range(int(timeout / 0.01)):
            if self._closed or not (self._queue or self._busy or self.dropped > self._reported):
                break
            self._wake.set()
            deadline.wait(0.01)

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()


class CallbackSink:
    """Delivers events to ``callback`` on the loop thread, in batches of up to ``window`` s.

    Batching by time, not per loop iteration, keeps the work off the request path: the
    callback (the UI's ingest, or the headless printer encoding and writing each event) runs
    once per window instead of once per request or WebSocket frame (bench figure 6, in-process
    round trip). Events still arrive in order, and the UI batches every 50 ms anyway.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        callback: Callable[[Sequence[Event]], None],
        *,
        window: float = 0.02,
    ) -> None:
        self.loop = loop
        self.callback = callback
        self.window = window
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        self._scheduled = False
        self._loop_thread = threading.get_ident()

    def emit(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        if threading.get_ident() == self._loop_thread:
            self.loop.call_later(self.window, self._flush)
        else:
            self.loop.call_soon_threadsafe(self.loop.call_later, self.window, self._flush)

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        if batch:
            self.callback(batch)

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._flush)
