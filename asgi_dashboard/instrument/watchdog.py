"""Blocked event loop detector.

A heartbeat callback re-schedules itself on the server's loop every ``period``; a watchdog thread
outside the loop looks at the last heartbeat. When the loop has not turned for longer than
``threshold``, the thread samples the loop thread's stack (``sys._current_frames()``) and keeps
the innermost frame of the project's own code: that is the line that blocks (``time.sleep``, a
sync HTTP call, heavy CPU in an async view). When the loop turns again, the heartbeat measures
how long it was stuck and reports one :class:`~asgi_dashboard.events.LoopBlocked` event with the
sampled frame and the requests that were in flight.

Cost when nothing blocks: one loop callback and one thread wake-up per ``period`` (20 ms), no
per-request work.

Loop lag (:class:`~asgi_dashboard.events.LoopLag`: the current lag and the maximum over the last
minute) is checked once a second but reported only when it says something new
(:func:`lag_is_news`): the first sample; the current lag or the minute's maximum moved by at least
:data:`LAG_MIN_CHANGE_NS` *and* by half of its last reported value; or the current lag crossed the
blocked-loop threshold (either way). An idle server's lag jitters by fractions of a millisecond:
it used to cost one event a second, forever, in ``--json`` output and on the pipe; now an idle
server reports its lag once. The status bar shows the last reported figures, which are within
that tolerance of the truth.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import threading
import time
import traceback
from collections.abc import Mapping

from ..events import FrameInfo, LoopBlocked, LoopLag
from .errors import innermost_project_frame_stack
from .sink import EventSink

DEFAULT_THRESHOLD_MS = 100.0
#: A lag figure is news when it moved by at least this much ...
LAG_MIN_CHANGE_NS = 2_000_000
#: ... and by at least this fraction of its last reported value.
LAG_MIN_CHANGE_RATIO = 0.5


def _moved(before: int, now: int) -> bool:
    return abs(now - before) >= max(LAG_MIN_CHANGE_NS, before * LAG_MIN_CHANGE_RATIO)


def lag_is_news(last: tuple[int, int] | None, current: int, worst: int, threshold: int) -> bool:
    """Whether a lag sample (``current``, ``worst`` over the minute) is worth an event, given the
    ``last`` one reported (None: nothing yet). See the module docstring."""
    if last is None:
        return True
    last_current, last_worst = last
    crossed = (current > threshold) != (last_current > threshold)
    return crossed or _moved(last_current, current) or _moved(last_worst, worst)


class LoopWatchdog:
    """Start with :meth:`start` from the loop's own thread; :meth:`stop` from anywhere."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sink: EventSink,
        in_flight: Mapping[str, str],
        *,
        project_dir: str | None = None,
        threshold_ms: float = DEFAULT_THRESHOLD_MS,
        period_s: float = 0.02,
    ) -> None:
        self.loop = loop
        self.sink = sink
        self.in_flight = in_flight
        self.project_dir = project_dir
        self.threshold_ns = int(threshold_ms * 1e6)
        self.period_s = period_s
        self.period_ns = int(period_s * 1e9)
        self._last_beat = time.perf_counter_ns()
        self._loop_thread = 0
        self._stopped = threading.Event()
        self._handle: asyncio.TimerHandle | None = None
        # What the thread saw during the current stall (read by the heartbeat after it).
        self._sample: tuple[FrameInfo | None, str, tuple[str, ...]] | None = None
        self._lags: collections.deque[tuple[int, int]] = collections.deque()
        self._last_lag_report = 0
        #: (current, max) of the last LoopLag sent.
        self._last_lag_sent: tuple[int, int] | None = None

    def start(self) -> LoopWatchdog:
        self._loop_thread = threading.get_ident()
        self._last_beat = time.perf_counter_ns()
        self._handle = self.loop.call_later(self.period_s, self._beat)
        threading.Thread(target=self._watch, name="asgi-dash-watchdog", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._handle is not None:
            self._handle.cancel()

    # -- on the loop --------------------------------------------------------------------------

    def _beat(self) -> None:
        now = time.perf_counter_ns()
        lag = max(0, now - self._last_beat - self.period_ns)
        self._last_beat = now
        if lag > self.threshold_ns:
            frame, stack, in_flight = self._sample or (None, "", tuple(self.in_flight.values()))
            self._sample = None
            self.sink.emit(
                LoopBlocked(duration_ns=lag, frame=frame, stack=stack, in_flight=in_flight)
            )
        self._record_lag(now, lag)
        if not self._stopped.is_set():
            self._handle = self.loop.call_later(self.period_s, self._beat)

    def _record_lag(self, now: int, lag: int) -> None:
        lags = self._lags
        lags.append((now, lag))
        minute_ago = now - 60_000_000_000
        while lags and lags[0][0] < minute_ago:
            lags.popleft()
        if now - self._last_lag_report >= 1_000_000_000:
            self._last_lag_report = now
            worst = max(v for _, v in lags)
            if lag_is_news(self._last_lag_sent, lag, worst, self.threshold_ns):
                self._last_lag_sent = (lag, worst)
                self.sink.emit(LoopLag(current_ns=lag, max_ns=worst))

    # -- on the watchdog thread -----------------------------------------------------------

    def _watch(self) -> None:
        sampled_beat = -1
        while not self._stopped.wait(self.period_s):
            beat = self._last_beat
            if beat == sampled_beat:
                continue  # already sampled this stall
            if time.perf_counter_ns() - beat > self.threshold_ns:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is None:
                    continue
                where = innermost_project_frame_stack(frame, self.project_dir)
                stack = "".join(traceback.format_stack(frame, limit=25))
                self._sample = (where, stack, tuple(self.in_flight.values()))
                sampled_beat = beat
                del frame
