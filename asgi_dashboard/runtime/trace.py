"""Step timestamps of a reload, for ``bench/reload.py`` (off unless ``ASGI_DASH_TRACE`` is set).

Every process on the reload path (the dashboard's watcher, the warm process, the forked or
spawned server, the old generation while it stops) appends one line per step to the file named
by ``ASGI_DASH_TRACE``: ``<perf_counter_ns> <pid> <step>``. ``perf_counter_ns`` is
CLOCK_MONOTONIC on Linux, so the lines of all processes (and the bench's own clock) compare
directly. Each line is one ``write`` on an ``O_APPEND`` descriptor: lines from several processes
do not interleave.

Standard library only: the server process and the early spawn import this.
"""

from __future__ import annotations

import os
import time

_PATH = os.environ.get("ASGI_DASH_TRACE", "")
_fd = -1


def enabled() -> bool:
    return bool(_PATH)


def trace(step: str, ns: int | None = None) -> None:
    """Record ``step`` now (or at ``ns``); nothing at all when tracing is off."""
    global _fd
    if not _PATH:
        return
    stamp = time.perf_counter_ns() if ns is None else ns
    try:
        if _fd < 0:
            _fd = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.write(_fd, f"{stamp} {os.getpid()} {step}\n".encode())
    except OSError:
        pass
