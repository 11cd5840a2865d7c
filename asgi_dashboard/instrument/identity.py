"""Which server process this is: the worker index and pid the taps put on every event.

With ``asgi-dash --workers N`` each of the N server processes of a generation is a worker,
indexed 1..N; index 0 means the server is a single process (or the index is unknown), and then
ids keep their one-process form (``"{generation}-{n}"``). The runtime sets the identity in each
server process before it serves; the attach wrapper (processes asgi-dash did not start) sets it
from its ASGI wrapper. Reading it is two module globals: nothing here may import Django, the
runtime or Textual, and :func:`set_worker` has no effect beyond setting the two values.
"""

from __future__ import annotations

import os

_index = 0
_pid = 0


def set_worker(index: int, pid: int | None = None) -> None:
    """Record this process's worker index (1-based; 0 = single process/unknown) and pid.

    ``pid`` defaults to ``os.getpid()`` at call time; pass it when the caller knows better.
    """
    global _index, _pid
    if index < 0:
        raise ValueError(f"worker index must be >= 0, not {index}")
    _index = index
    _pid = os.getpid() if pid is None else pid


def worker_index() -> int:
    """This process's worker index: 1..N, or 0 for a single server process (or unknown)."""
    return _index


def worker_pid() -> int:
    """The pid recorded by :func:`set_worker`, or this process's pid if none was."""
    return _pid or os.getpid()


def id_prefix(generation: int) -> str:
    """The prefix of request/connection ids: ``"3"`` for one process, ``"3.2"`` for worker 2."""
    return f"{generation}.{_index}" if _index else str(generation)
