"""The event pump's bookkeeping (pump.EventBuffer) and the exit code the status implies."""

from __future__ import annotations

from asgi_dashboard.config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED
from asgi_dashboard.events import ServerFailed, ServerStopped
from asgi_dashboard.model import ServerStatus
from asgi_dashboard.pump import (
    BUSY_BATCH,
    FLUSH_CHUNK,
    FLUSH_INTERVAL,
    FLUSH_INTERVAL_BUSY,
    EventBuffer,
)
from tests.ui.scripted import request, started


def test_first_batch_flushes_at_once_later_ones_wait_for_the_scheduled_flush() -> None:
    buf = EventBuffer()
    assert buf.add([request(1)], now=100.0) == 0.0
    assert buf.add([request(2)], now=100.001) is None  # one flush is already scheduled
    assert [e.id for e in buf.take(now=100.01)] == ["1-1", "1-2"]  # type: ignore[attr-defined]
    assert not buf.more() and not buf.scheduled
    # Soon after a flush, the next waits for the rest of the interval.
    delay = buf.add([request(3)], now=100.02)
    assert delay is not None and abs(delay - (FLUSH_INTERVAL - 0.01)) < 1e-9


def test_a_flood_is_taken_in_chunks_at_the_busy_interval() -> None:
    buf = EventBuffer()
    buf.add([request(i) for i in range(FLUSH_CHUNK + 5)], now=0.0)
    assert len(buf.take(now=0.0)) == FLUSH_CHUNK
    assert buf.interval == FLUSH_INTERVAL_BUSY and buf.more()
    assert len(buf.take(now=0.2)) == 5 <= BUSY_BATCH
    assert buf.interval == FLUSH_INTERVAL and not buf.more()


def test_exit_code_as_headless_mode_gives_it() -> None:
    status = ServerStatus()
    assert status.exit_code(reload=True) == 0
    status.apply(ServerFailed(message="busy", phase="bind"))
    assert status.exit_code(reload=True) == EXIT_BAD_INPUT
    project = ServerStatus()
    project.apply(ServerFailed(message="ImportError", phase="import"))
    assert project.exit_code(reload=True) == EXIT_PROJECT_FAILED
    crashed = ServerStatus()
    crashed.apply(started())
    crashed.apply(ServerStopped(pid=4242, reason="crashed", generation=1))
    assert crashed.exit_code(reload=False) == 1 and crashed.exit_code(reload=True) == 0
