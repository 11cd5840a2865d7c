"""Route ``logging`` records of the server process into events.

Uvicorn's and Django's default handlers would write to the real stderr (over the TUI in
in-process mode, and as unstructured text in child mode); the bridge turns each record into a
:class:`~asgi_dashboard.events.LogRecord` with its logger and level, so the console can colour and
filter them.
"""

from __future__ import annotations

import logging
import sys

from ..events import LogRecord
from .errors import format_traceback
from .sink import EventSink


class EventLogHandler(logging.Handler):
    """A logging handler that emits :class:`LogRecord` events."""

    def __init__(self, sink: EventSink, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            exc_text = None
            if record.exc_info and record.exc_info[1] is not None:
                exc_text = format_traceback(record.exc_info[1]).rstrip("\n")
            elif record.exc_info:
                exc_text = logging.Formatter().formatException(record.exc_info)
            self.sink.emit(
                LogRecord(
                    ts=record.created,
                    logger=record.name,
                    level=record.levelname,
                    message=message,
                    exc_text=exc_text,
                )
            )
        except Exception:  # a broken record must never break the request that logged it
            self.handleError(record)


def _is_terminal_stream_handler(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return isinstance(handler, logging.StreamHandler) and stream in (
        sys.stderr,
        sys.stdout,
        sys.__stderr__,
        sys.__stdout__,
    )


def install_log_bridge(sink: EventSink) -> EventLogHandler:
    """Attach the bridge to the root logger (again after ``django.setup()``, whose
    ``LOGGING`` dictConfig may have replaced the root handlers); idempotent."""
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, EventLogHandler) and h.sink is sink:
            return h
    handler = EventLogHandler(sink)
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Uvicorn's loggers propagate to the root unless configured otherwise.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).propagate = True
    return handler


def strip_console_handlers() -> None:
    """Remove handlers that write to this process's stdout/stderr from every logger.

    Their records already reach the dashboard through the bridge and would otherwise appear
    twice (once structured, once as raw stderr text) or be drawn over the TUI. Django's default
    ``console`` handler is one of them.
    """
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        if isinstance(logger, logging.Logger):
            for h in list(logger.handlers):
                if _is_terminal_stream_handler(h):
                    logger.removeHandler(h)
