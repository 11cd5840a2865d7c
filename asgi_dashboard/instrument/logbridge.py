"""Route ``logging`` records of the server process into events, formatted as the project does.

Uvicorn's and Django's default handlers would write to the real stderr (over the TUI in
in-process mode, and as unstructured text in child mode); the bridge turns each record into a
:class:`~asgi_dashboard.events.LogRecord` with its logger and level, so the console can colour and
filter them.

**The project's own formatting.** A handler the project configured to write to the terminal
(a ``logging.StreamHandler`` on stdout/stderr, e.g. structlog's ``ProcessorFormatter`` with a
``ConsoleRenderer``, a JSON formatter, Django's ``console`` handler) is replaced in place by a
:class:`ProjectHandlerBridge` with the same level, filters and formatter: the record is formatted
by that formatter (``LogRecord.formatted``, multi-line text such as tracebacks kept as lines)
instead of printed. The nearest such handler on the record's way up the logger tree is the one
the project configured for that logger (``logging.Logger.callHandlers`` walks the same way); the
record is emitted once. Records no such handler takes (a logger with no handler, or below the
handler's level) reach the root :class:`EventLogHandler`, as before, with ``formatted`` None.
A formatter that adds nothing to the message (Django's default ``console`` handler has none,
i.e. ``"%(message)s"``) also leaves ``formatted`` None: the console's own layout then shows
the logger's name.
"""

from __future__ import annotations

import logging
import sys

from ..events import LogRecord
from .errors import format_traceback
from .sink import EventSink

#: Set on a ``logging.LogRecord`` once it has been emitted as an event.
_EMITTED = "_asgi_dash_emitted"


def _is_plain(formatter: logging.Formatter | None) -> bool:
    """A formatter that prints the message (and traceback) only: nothing of the project's own."""
    if formatter is None:
        return True
    fmt = getattr(formatter, "_fmt", None)
    return type(formatter) is logging.Formatter and fmt in (None, "%(message)s", "{message}")


def emit_record(sink: EventSink, record: logging.LogRecord, formatted: str | None) -> None:
    """One :class:`LogRecord` event for ``record``; ``formatted`` is the project's text."""
    msg = record.msg
    if isinstance(msg, dict) and "event" in msg and not record.args:
        # structlog's stdlib integration hands the event dict over as the message
        # (``ProcessorFormatter.wrap_for_formatter``): its "event" is the message proper.
        message = str(msg["event"])
    else:
        message = record.getMessage()
    exc_text = None
    if record.exc_info and record.exc_info[1] is not None:
        exc_text = format_traceback(record.exc_info[1]).rstrip("\n")
    elif record.exc_info:
        exc_text = logging.Formatter().formatException(record.exc_info)
    setattr(record, _EMITTED, True)
    sink.emit(
        LogRecord(
            ts=record.created,
            logger=record.name,
            level=record.levelname,
            message=message,
            exc_text=exc_text,
            formatted=formatted,
        )
    )


class EventLogHandler(logging.Handler):
    """A logging handler (on the root logger) that emits :class:`LogRecord` events."""

    def __init__(self, sink: EventSink, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, _EMITTED, False):
            return  # the project's own handler (bridged) already sent it, formatted
        try:
            emit_record(self.sink, record, None)
        except Exception:  # a broken record must never break the request that logged it
            self.handleError(record)


class ProjectHandlerBridge(logging.Handler):
    """Stands in for a project handler that wrote to the terminal: same level, filters and
    formatter; the formatted text goes into a :class:`LogRecord` event instead."""

    def __init__(self, sink: EventSink, original: logging.Handler) -> None:
        super().__init__(original.level)
        self.sink = sink
        #: The handler it replaced (kept for its configuration; never called).
        self.original = original
        self.filters = list(original.filters)
        self.formatter = original.formatter
        self.name = original.name

    def handle(self, record: logging.LogRecord) -> bool:
        if getattr(record, _EMITTED, False):
            return False  # a handler nearer to the record's logger formatted it already
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        formatted = None
        if not _is_plain(self.formatter):
            try:
                # What StreamHandler.emit writes, without its terminator.
                formatted = self.format(record)
            except Exception:
                formatted = None  # the formatter failed: plain fields rather than nothing
        try:
            emit_record(self.sink, record, formatted)
        except Exception:
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


def strip_console_handlers(sink: EventSink | None = None) -> None:
    """Replace handlers that write to this process's stdout/stderr on every logger by
    :class:`ProjectHandlerBridge` (events formatted by their formatter).

    Their output would otherwise appear twice (once as an event, once as raw stderr text) or
    be drawn over the TUI. ``sink`` defaults to the one the root :class:`EventLogHandler`
    (:func:`install_log_bridge`) uses; without either, they are only removed. The root's
    :class:`EventLogHandler` is moved last, so that the project's own handlers on the root
    come first.
    """
    root = logging.getLogger()
    bridges = [h for h in root.handlers if isinstance(h, EventLogHandler)]
    if sink is None and bridges:
        sink = bridges[-1].sink
    loggers = [root, *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        if not isinstance(logger, logging.Logger):
            continue
        for i, h in enumerate(list(logger.handlers)):
            if not _is_terminal_stream_handler(h):
                continue
            if sink is None:
                logger.removeHandler(h)
            else:
                # In place: the handler's position (and so its turn) stays the project's.
                logger.handlers[i] = ProjectHandlerBridge(sink, h)
    for h in bridges:
        root.removeHandler(h)
        root.addHandler(h)
