"""Runtimes: asyncio only (no Textual). :func:`make_runtime` picks one from the config.

Nothing is imported eagerly: the server process (``python -m asgi_dashboard.runtime.child``) and
the CLI's early spawn (:mod:`.launch`) import this package too, and must not pay for the parent's
modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import DashboardConfig
    from .base import EventCallback, Runtime


def make_runtime(config: DashboardConfig, on_events: EventCallback) -> Runtime:
    """The child-process runtime by default, the in-process one with ``--in-process``."""
    if config.in_process:
        from .inprocess import InProcessRuntime

        return InProcessRuntime(config, on_events)
    from .supervisor import ChildRuntime

    return ChildRuntime(config, on_events)


def __getattr__(name: str) -> Any:
    if name in ("EventCallback", "Runtime"):
        from . import base

        return getattr(base, name)
    raise AttributeError(name)


__all__ = ["EventCallback", "Runtime", "make_runtime"]
