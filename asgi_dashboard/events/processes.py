"""Events of processes asgi-dash did not start, watched with ``asgi-dash collect``.

A process whose ASGI application is wrapped by :func:`asgi_dashboard.attach` (a gunicorn worker,
daphne, ``manage.py runworker``) connects to the collector's Unix socket and says who it is
first (:class:`ProcessAttached`); the collector reports its going away (:class:`ProcessDetached`).
Everything in between is the ordinary traffic and log events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .base import Event

#: How an attached process left: it closed the connection (it exited, or restarted), or the
#: collector stopped (then every process is detached at once), or its stream was not ours.
DetachReason = Literal["closed", "collector-stopped", "bad-stream"]


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ProcessAttached(Event):
    """A process with the attach wrapper connected to the collector (its hello)."""

    name: ClassVar[str] = "process-attached"
    pid: int
    #: The parent's pid (a gunicorn worker's is the master's).
    ppid: int = 0
    #: What serves it, guessed from argv: "gunicorn", "uvicorn", "daphne", "hypercorn",
    #: "runworker", else "python".
    server: str = "python"
    argv: tuple[str, ...] = ()
    #: The working directory of the process (where the project usually is).
    project_dir: str = ""
    settings_module: str = ""
    #: The wrapped application (``module.qualname`` of its class or function).
    app: str = ""
    python: str = ""
    django: str = ""
    #: The worker index the collector gave it (1, 2, ... in order of first hello, kept per pid
    #: for the collector's run); 0 in the hello as sent (the process does not know it yet).
    worker: int = 0
    #: Connections this process made before this one (to this or an earlier collector): a
    #: collector restarted mid-run sees its workers come back with ``reconnects`` > 0.
    reconnects: int = 0


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class ProcessDetached(Event):
    """An attached process's connection ended."""

    name: ClassVar[str] = "process-detached"
    pid: int
    worker: int = 0
    reason: DetachReason = "closed"
    #: Events received from it over this connection (its hello excluded).
    events: int = 0


__all__ = ["DetachReason", "ProcessAttached", "ProcessDetached"]
