"""The runtime interface the UI and the headless printer talk to.

A runtime starts the project's server (in a supervised child process, or in this process's own
event loop), and reports everything as :mod:`asgi_dashboard.events` in batches through one
callback. Both runtimes have the same surface, so the UI never knows which one it drives.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Literal

from ..config import DashboardConfig
from ..events import Event

#: Called on the event loop thread with a batch of events, in order.
EventCallback = Callable[[Sequence[Event]], None]

State = Literal["idle", "starting", "running", "restarting", "crashed", "failed", "stopped"]


class Runtime(abc.ABC):
    """Runs the server and reports events. Methods are called from the parent's event loop."""

    def __init__(self, config: DashboardConfig, on_events: EventCallback) -> None:
        self.config = config
        self.on_events = on_events
        self.state: State = "idle"
        #: Increases by one for every server started (first start is generation 1).
        self.generation = 0
        #: The URL the server listens on, once bound (the port is known before the app loads).
        self.url: str | None = None
        self.pid: int | None = None

    @abc.abstractmethod
    async def start(self) -> None:
        """Bind the socket and start the server; returns once it is starting (not started)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop the server (bounded by ``config.graceful_timeout``) and free the port."""

    @abc.abstractmethod
    async def restart(self, reason: str = "manual") -> None:
        """Stop the current server and start a new generation on the same socket."""

    def emit(self, *events: Event) -> None:
        """Report events produced by the runtime itself (not by the server)."""
        self.on_events(events)
