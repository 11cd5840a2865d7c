"""Instrumentation that runs beside Django in the server process.

Nothing here imports Textual. :func:`install` patches the few Django/Channels seams that give
exact per-request timings; :class:`~asgi_dashboard.instrument.tap.InstrumentedApp` wraps the
project's ASGI application and turns each HTTP request and WebSocket connection into events.
"""

from __future__ import annotations

from .hooks import install
from .sink import CallbackSink, EventSink, PipeSink
from .tap import InstrumentedApp

__all__ = ["CallbackSink", "EventSink", "InstrumentedApp", "PipeSink", "install"]
