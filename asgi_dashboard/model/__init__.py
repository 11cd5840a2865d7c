"""The dashboard's state, without Textual: event batches in, one typed ChangeSet out.

:class:`Dashboard` owns everything the UI derives from events (the request log and its ring
buffer, per-view stats, server status, WebSocket rows and server-side records, reload history and
what is watched, the latest middleware audit, start-up failures); the widgets render a
:class:`ChangeSet` and read the state it points at, and never derive state of their own.
"""

from __future__ import annotations

from .changes import ChangeSet
from .dashboard import CONSOLE_TYPES, Dashboard
from .reloads import ReloadHistory, ReloadRow, describe_watch
from .rows import Badge, Entry, LogItem, WsConnection
from .status import ServerState, ServerStatus
from .ws import ServerConnection, ServerRecords

__all__ = [
    "CONSOLE_TYPES",
    "Badge",
    "ChangeSet",
    "Dashboard",
    "Entry",
    "LogItem",
    "ReloadHistory",
    "ReloadRow",
    "ServerConnection",
    "ServerRecords",
    "ServerState",
    "ServerStatus",
    "WsConnection",
    "describe_watch",
]
