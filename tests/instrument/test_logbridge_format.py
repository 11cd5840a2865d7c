"""The project's log formatting reaches the console as the project configured it.

Real structlog (stdlib integration: ``ProcessorFormatter`` + ``ConsoleRenderer(colors=False)``)
and a stdlib JSON formatter, on handlers writing to stderr as a project configures them; the
bridge replaces those handlers (as the server process does after ``django.setup()``), and the
event's text must equal what the handler's own formatter makes of the same record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog

from asgi_dashboard.events import Event, LogRecord, decode, encode
from asgi_dashboard.headless import format_event
from asgi_dashboard.instrument.logbridge import (
    ProjectHandlerBridge,
    install_log_bridge,
    strip_console_handlers,
)
from asgi_dashboard.widgets.console import console_line
from asgi_dashboard.widgets.palette import Palette
from tests.instrument.conftest import ListSink
from tests.runtime.conftest import _clean_environ, launch


class Captured(logging.Handler):
    """Applies the project's formatter directly to each record, when it is logged (structlog's
    ``exc_info=True`` reads ``sys.exc_info()`` at format time, as the project's handler does)."""

    def __init__(self, formatters: dict[str, logging.Formatter]) -> None:
        super().__init__(logging.DEBUG)
        self.formatters = formatters
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.formatters[record.name].format(record))


class JsonFormatter(logging.Formatter):
    """The usual hand-written JSON formatter (one object per line, traceback as a field)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


@pytest.fixture
def isolated_logging() -> Iterator[None]:
    """Every logger's handlers, levels and propagation, and structlog's config, restored."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *manager.loggerDict.values()]
    saved = [
        (lg, list(lg.handlers), lg.level, lg.propagate)
        for lg in loggers
        if isinstance(lg, logging.Logger)
    ]
    yield
    for lg in [logging.getLogger(), *manager.loggerDict.values()]:
        if isinstance(lg, logging.Logger) and lg.name.startswith("projlog"):
            lg.handlers.clear()
    for lg, handlers, level, propagate in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
    structlog.reset_defaults()


def configure_project() -> tuple[logging.Formatter, logging.Formatter]:
    """What a project's settings do: structlog through stdlib, and a JSON logger."""
    structlog.configure(
        processors=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    console = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            ),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(console)
    sl = logging.getLogger("projlog.structlog")
    sl.addHandler(handler)
    sl.setLevel(logging.DEBUG)
    sl.propagate = True

    jf = JsonFormatter()
    json_handler = logging.StreamHandler(sys.stdout)
    json_handler.setFormatter(jf)
    jl = logging.getLogger("projlog.json")
    jl.addHandler(json_handler)
    jl.setLevel(logging.INFO)
    jl.propagate = False  # a project's own choice: today such records never reached us
    return console, jf


def boom() -> None:
    raise ValueError("bad value")


def test_structlog_and_json_records_read_as_the_project_configured(
    isolated_logging: None,
) -> None:
    console_fmt, json_fmt = configure_project()
    sink = ListSink()
    install_log_bridge(sink)
    strip_console_handlers()
    assert isinstance(logging.getLogger("projlog.structlog").handlers[0], ProjectHandlerBridge)
    captured = Captured({"projlog.structlog": console_fmt, "projlog.json": json_fmt})
    logging.getLogger("projlog.structlog").addHandler(captured)
    logging.getLogger("projlog.json").addHandler(captured)

    log = structlog.get_logger("projlog.structlog")
    log.info("user logged in", user_id=3, plan="pro")
    try:
        boom()
    except ValueError:
        log.exception("payment failed", order=42)
    jlog = logging.getLogger("projlog.json")
    jlog.warning("disk at %d%%", 91)
    try:
        boom()
    except ValueError:
        jlog.exception("job failed")

    events = sink.of(LogRecord)
    assert [e.logger for e in events] == ["projlog.structlog"] * 2 + ["projlog.json"] * 2
    assert [e.level for e in events] == ["INFO", "ERROR", "WARNING", "ERROR"]
    # Exactly what the project's handler would have printed (minus its newline).
    assert [e.formatted for e in events] == captured.texts

    info, failure, warning, job = events
    assert info.formatted is not None and "user logged in" in info.formatted
    assert "plan=pro" in info.formatted and "user_id=3" in info.formatted
    assert "{" not in info.formatted  # not a dict repr
    assert info.message == "user logged in"  # the event, for filtering
    # Tracebacks as lines, not escaped "\n" inside one line.
    assert failure.formatted is not None
    lines = failure.formatted.splitlines()
    assert "Traceback (most recent call last):" in lines
    assert lines[-1] == "ValueError: bad value"
    assert "\\n" not in failure.formatted
    assert json.loads(warning.formatted or "") == {
        "level": "WARNING",
        "logger": "projlog.json",
        "msg": "disk at 91%",
    }
    assert "ValueError: bad value" in json.loads(job.formatted or "")["exc"]


def test_console_and_headless_show_the_formatted_text(isolated_logging: None) -> None:
    configure_project()
    sink = ListSink()
    install_log_bridge(sink)
    strip_console_handlers()
    log = structlog.get_logger("projlog.structlog")
    try:
        boom()
    except ValueError:
        log.exception("payment failed", order=42)
    event: Event
    (event,) = sink.of(LogRecord)
    # As the dashboard receives it: through the wire codec.
    event = decode(encode(event))
    assert isinstance(event, LogRecord) and event.formatted is not None
    text = console_line(event, Palette())
    assert text is not None
    shown = text.plain
    assert shown.split(" ", 1)[1].lstrip().startswith("ERROR")
    assert shown.endswith(event.formatted.rstrip())
    printed = format_event(event)
    assert printed is not None
    assert printed.endswith(event.formatted.rstrip())
    assert printed.splitlines()[-1] == "ValueError: bad value"


def test_record_emitted_once_by_the_nearest_handler(isolated_logging: None) -> None:
    """A record that also propagates to a root console handler is not sent twice."""
    configure_project()
    root_handler = logging.StreamHandler(sys.stderr)
    root_handler.setFormatter(logging.Formatter("ROOT %(message)s"))
    logging.getLogger().addHandler(root_handler)
    sink = ListSink()
    install_log_bridge(sink)
    strip_console_handlers()
    structlog.get_logger("projlog.structlog").info("once")
    logging.getLogger("projlog.other").warning("plain %s", "record")
    events = sink.of(LogRecord)
    assert len(events) == 2
    assert events[0].formatted is not None and "once" in events[0].formatted
    assert not events[0].formatted.startswith("ROOT")
    # Nothing nearer: the root's own console handler formats it.
    assert events[1].formatted == "ROOT plain record"


def test_plain_formatter_keeps_the_console_layout(isolated_logging: None) -> None:
    """Django's default ``console`` handler has no formatter: ``formatted`` stays None."""
    handler = logging.StreamHandler(sys.stderr)
    lg = logging.getLogger("projlog.django")
    lg.addHandler(handler)
    lg.setLevel(logging.INFO)
    sink = ListSink()
    install_log_bridge(sink)
    strip_console_handlers()
    lg.warning("Not Found: %s", "/missing/")
    (event,) = sink.of(LogRecord)
    assert event.formatted is None
    assert event.message == "Not Found: /missing/"
    printed = format_event(event)
    assert printed is not None and printed.endswith("projlog.django: Not Found: /missing/")


# -- a real project, a real server ---------------------------------------------------------

STRUCTLOG_SETTINGS = """
import structlog

structlog.configure(
    processors=[
        structlog.stdlib.add_log_level,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.dev.ConsoleRenderer(
                    colors=False, exception_formatter=structlog.dev.plain_traceback
                ),
            ],
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "console"}},
    "loggers": {"shop": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
"""
STRUCTLOG_URLS = """
import structlog
from django.http import HttpResponse

log = structlog.get_logger("shop")


def order(request):
    log.info("order placed", order_id=7, total="12.50")
    try:
        1 / 0
    except ZeroDivisionError:
        log.exception("refund failed", order_id=7)
    return HttpResponse("ok")


urlpatterns += [path("order/", order)]
"""
SHELL_LOG = (
    "import structlog; structlog.get_logger('shop').info('order placed', order_id=7, total='12.50')"
)


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_structlog_project_reads_as_under_manage_py(tmp_path: Path) -> None:
    """``startproject`` + structlog LOGGING: the console shows what ``manage.py`` prints."""
    root = tmp_path / "shop"
    root.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(root)],
        check=True,
        env=_clean_environ(),
        timeout=60,
    )
    with open(root / "mysite" / "settings.py", "a") as f:
        f.write(STRUCTLOG_SETTINGS)
    with open(root / "mysite" / "urls.py", "a") as f:
        f.write(STRUCTLOG_URLS)
    # The reference: what the project's handler prints under manage.py.
    shell = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHELL_LOG],
        cwd=root,
        env=_clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reference = shell.stderr.rstrip("\n")
    assert "order placed" in reference and "order_id=7" in reference

    run = await launch(str(root), "--port", "0", "--no-reload", cwd=root)
    try:
        started = await run.wait_event("server-started", timeout=40)
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{str(started['url']).rstrip('/')}/order/")
        assert response.status_code == 200
        info = await run.wait_for(lambda e: e["event"] == "log" and e["logger"] == "shop", 20)
        error = await run.wait_for(lambda e: e["event"] == "log" and e["logger"] == "shop", 20)
    finally:
        await asyncio.wait_for(run.stop(), 30)
    assert info["level"] == "INFO" and info["message"] == "order placed"
    assert info["formatted"] == reference
    assert error["level"] == "ERROR"
    lines = error["formatted"].splitlines()
    assert lines[0].startswith("[error    ] refund failed")
    assert "Traceback (most recent call last):" in lines
    assert lines[-1] == "ZeroDivisionError: division by zero"
