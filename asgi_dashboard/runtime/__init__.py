"""Runtimes: asyncio only (no Textual). :func:`make_runtime` picks one from the config.

Nothing is imported eagerly: the server process (``python -m asgi_dashboard.runtime.child``) and
the CLI's early spawn (:mod:`.launch`) import this package too, and must not pay for the parent's
modules.

The modules, by the process they run in:

* **The dashboard (parent).** :mod:`.base` (the ``Runtime`` interface, reload bookkeeping),
  :mod:`.supervisor` (``ChildRuntime``: one server process per generation) with :mod:`.folding`
  (bursts of saves), :mod:`.workers` (``--workers N``: N processes per generation),
  :mod:`.starting` (fork or spawn one, a typed ``Launched``),
  :mod:`.generation` (a running generation: its process and pipes), :mod:`.crash` (the 503
  stand-in and restart policy), :mod:`.warmclient` (the warm process, from the parent's side),
  :mod:`.reloader` (what a file change means), :mod:`.tools` (project tools in a subprocess).
* **The boundary.** :mod:`.spec` (``ServerSpec``/``WarmSpec``: what crosses to a server process,
  frozen and JSON), :mod:`.launch` (spawning and forking server processes, the CLI's early first
  generation), :mod:`.sockets` (the listening socket, bound once).
* **A server process.** :mod:`.child` (its entry point), :mod:`.control` (the control pipe and
  stopping), :mod:`.warm` (the warm process that forks generations), :mod:`.tool_commands`.
* **Both a server process and ``--in-process``** (:mod:`.inprocess`): :mod:`.bootstrap` (load
  the project), :mod:`.serving` (assemble a generation: the tapped application, its
  ServerStarted), :mod:`.server` (Uvicorn on our socket), :mod:`.errorpage`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import DashboardConfig
    from .base import EventCallback, Runtime


def make_runtime(config: DashboardConfig, on_events: EventCallback) -> Runtime:
    """The child-process runtime by default, the in-process one with ``--in-process``, the
    collector of attached processes for ``asgi-dash collect``."""
    if config.collect_socket is not None:
        from .collector import CollectorRuntime

        return CollectorRuntime(config, on_events)
    if config.in_process:
        from .inprocess import InProcessRuntime

        return InProcessRuntime(config, on_events)
    if config.workers > 1:
        from .workers import WorkersRuntime

        return WorkersRuntime(config, on_events)
    from .supervisor import ChildRuntime

    return ChildRuntime(config, on_events)


def __getattr__(name: str) -> Any:
    if name in ("EventCallback", "Runtime"):
        from . import base

        return getattr(base, name)
    raise AttributeError(name)


__all__ = ["EventCallback", "Runtime", "make_runtime"]
