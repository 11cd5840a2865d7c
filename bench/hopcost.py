"""The thread-hop timeline's CPU per request (instrument/hops.py), measured by its parts.

A whole request costs several milliseconds of CPU on this machine and varies by more than the
timeline's few microseconds between blocks, so an A/B of whole requests cannot resolve it. This
times, in the project's process (Django loaded, hooks installed), the work the timeline adds to
a real request, part by part, each in a tight loop on one thread:

* **call side** (:func:`asgi_dashboard.instrument.hops.called`) for each hop of one real
  request to the path (the callables are captured from that request: the same classification,
  the same project-frame walk for the ones that are none of Django's);
* **thread side**: ``SyncToAsync.thread_handler`` with the timeline's wrapper (a partial, the
  ``_run_timed`` frame, the look-up of the hop, the thread's name, two clock reads) minus asgiref's
  own ``thread_handler``, both running a no-op;
* **event**: :func:`~asgi_dashboard.instrument.hops.hop_events` for that request's hops (names,
  the ``Hop`` values), once per request.

per request = sum(call side) + hops x thread side + event. The run under load overstates all
three alike (CPU time is inflated by contention, not understated).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any


def _per_call_us(run: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(5):  # the least disturbed of five rounds
        t0 = time.process_time()
        for _ in range(repeat):
            run()
        best = min(best, time.process_time() - t0)
    return best / repeat * 1e6


async def _captured(app: Any, path: str, request: Callable[..., Any]) -> list[Any]:
    """The callables one tapped request to ``path`` hands to ``sync_to_async``, in order."""
    from asgi_dashboard.instrument import hops

    funcs: list[Any] = []
    original = hops.called

    def capture(rec: Any, func: Any) -> None:
        funcs.append(func)
        original(rec, func)

    hops.called = capture
    try:
        await request(app, path)
    finally:
        hops.called = original
    return funcs


def _thread_side_us(repeat: int) -> float:
    from asgiref.sync import SyncToAsync

    from asgi_dashboard.instrument.records import RequestRecord, current

    def noop() -> None:
        return None

    def enter(child: Callable[[], Any]) -> Any:  # asgiref's func: context.run(run_child)
        return child()

    s2a: Any = SyncToAsync(noop)
    patched: Any = SyncToAsync.thread_handler
    original: Any = patched.__wrapped__
    rec = RequestRecord(start_ns=0)
    token = current.set(rec)
    exc = (None, None, None)

    def timed() -> None:
        if len(rec.hops) > 8:
            rec.hops.clear()
        rec.hops.append([noop, "other", None, 1, 0, 0, None])
        patched(s2a, None, exc, [], enter, functools.partial(noop))

    def plain() -> None:
        if len(rec.hops) > 8:
            rec.hops.clear()
        rec.hops.append([noop, "other", None, 1, 0, 0, None])
        original(s2a, None, exc, [], enter, functools.partial(noop))

    try:
        return _per_call_us(timed, repeat) - _per_call_us(plain, repeat)
    finally:
        current.reset(token)


def measure(app: Any, path: str, request: Callable[..., Any], repeat: int = 2000) -> dict[str, Any]:
    """The timeline's CPU per request to ``path`` (see the module docstring), in us."""
    from asgi_dashboard.instrument import hops
    from asgi_dashboard.instrument.records import RequestRecord

    funcs = asyncio.run(_captured(app, path, request))
    rec = RequestRecord(start_ns=0, view="bench.view")

    def call_side() -> None:
        rec.hops.clear()
        for func in funcs:
            hops.called(rec, func)

    call_us = _per_call_us(call_side, max(repeat // max(len(funcs), 1), 50))
    rec.hops.clear()
    for func in funcs:
        hops.called(rec, func)
    import threading

    for hop in rec.hops:  # as if each had run: [func, kind, source, submitted, started, ...]
        hop[4:7] = [hop[3] + 1000, hop[3] + 5000, threading.current_thread()]

    def event() -> None:
        hops.hop_events(rec)

    event_us = _per_call_us(event, repeat // 4)
    thread_us = _thread_side_us(repeat)

    def empty() -> None:
        return None

    return {
        # The machine's speed now: one empty Python call, to scale the figures by (load).
        "empty_call_us": _per_call_us(empty, repeat * 10),
        "hops": len(funcs),
        "call_us": call_us,
        "thread_us_per_hop": thread_us,
        "event_us": event_us,
        "total_us": call_us + len(funcs) * thread_us + event_us,
    }
