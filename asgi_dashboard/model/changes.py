"""What one batch of events changed: the only thing the widgets are handed after a batch."""

from __future__ import annotations

from dataclasses import dataclass

from ..events import Event, MiddlewareAudit, ServerFailed, ServerStarted
from .rows import LogItem


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """One batch's changes, in event order within each field.

    The model's state it refers to (``Dashboard.status``, ``.views``, ``.ws``, ``.reloads``) is
    read by the widgets when a flag says it changed; the change set itself never changes.
    """

    #: Rows added to the log (requests, and WebSocket connections when they open).
    new_items: tuple[LogItem, ...] = ()
    #: Rows already in the log that changed (a WebSocket was accepted or closed).
    updated_items: tuple[LogItem, ...] = ()
    #: Events for the console, in order.
    console: tuple[Event, ...] = ()
    status_changed: bool = False
    #: The last start failure in the batch (for the start-up error panel).
    failure: ServerFailed | None = None
    #: Every server start in the batch (the WebSocket panel learns the URL and reconnects).
    started: tuple[ServerStarted, ...] = ()
    #: Server-side WebSocket connections (``Dashboard.ws``) that changed, by id.
    ws_changed: frozenset[str] = frozenset()
    #: A reload row was added or completed (``Dashboard.reloads``).
    reloads_changed: bool = False
    #: The watcher said what it watches (``Dashboard.watch_text``).
    watching_changed: bool = False
    #: A new middleware audit (``Dashboard.audit`` is the latest).
    audit: MiddlewareAudit | None = None

    @property
    def log_changed(self) -> bool:
        return bool(self.new_items or self.updated_items)
