"""Tests from traffic: a pytest test written from a recorded request or WebSocket connection.

Core (no Textual, no Django): :func:`http_test` turns a
:class:`~asgi_dashboard.events.RequestFinished` into a test that replays it with Django's test
``Client`` and asserts its status and number of queries; :func:`ws_test` turns a
:class:`~asgi_dashboard.model.ws.ServerConnection` into an async test with Channels'
``WebsocketCommunicator``; :func:`write_test` puts either into a file (created or appended to,
never overwritten). The generated text is laid out black-style (layout.py) and formatted with
``ruff format`` when ruff is installed.
"""

from __future__ import annotations

from .files import DEFAULT_PATH, MARKER, WriteResult, write_test
from .http import http_test, needs_transaction
from .names import GeneratedTest, GenOptions
from .ws import ws_test

__all__ = [
    "DEFAULT_PATH",
    "MARKER",
    "GenOptions",
    "GeneratedTest",
    "WriteResult",
    "http_test",
    "needs_transaction",
    "write_test",
    "ws_test",
]
