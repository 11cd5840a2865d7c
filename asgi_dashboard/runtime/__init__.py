"""Runtimes: asyncio only (no Textual). :func:`make_runtime` picks one from the config."""

from __future__ import annotations

from ..config import DashboardConfig
from .base import EventCallback, Runtime


def make_runtime(config: DashboardConfig, on_events: EventCallback) -> Runtime:
    """The child-process runtime by default, the in-process one with ``--in-process``."""
    if config.in_process:
        from .inprocess import InProcessRuntime

        return InProcessRuntime(config, on_events)
    from .supervisor import ChildRuntime

    return ChildRuntime(config, on_events)


__all__ = ["EventCallback", "Runtime", "make_runtime"]
