"""The runtime's OTLP subscriber: event batches -> spans -> the official SDK's OTLP/HTTP exporter.

:class:`OtlpExporter` owns a ``TracerProvider`` (not the global one: the dashboard instruments
nothing of its own), a ``BatchSpanProcessor`` and an ``OTLPSpanExporter``. The SDK reads the
standard variables itself: ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
(default ``http://localhost:4318/v1/traces``), ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_EXPORTER_OTLP_TIMEOUT``, ``OTEL_TRACES_SAMPLER``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_BSP_*``; ``OTEL_SERVICE_NAME`` names the service, else the project's name (its settings
package, e.g. ``demosite``). ``--otlp URL`` overrides the endpoint.

Never in the way of the dashboard:

* building spans costs the loop a few tens of microseconds per span; sending is the SDK's
  thread (``BatchSpanProcessor``: a bounded queue, 2048 spans by default, dropped beyond);
* the SDK's own log records (an unreachable collector: "Failed to export spans batch ...",
  a full queue) never reach stderr (it would print over the TUI): :class:`WarningRelay` turns
  them into one console warning (a ``CheckMessage`` event), then at most one a minute;
* on exit the queue gets :data:`FLUSH_TIMEOUT_S` to drain; a collector that does not answer
  by then is given up on (the exporter's retries are aborted) and the process exits anyway.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from ..events import Event
from . import traces_endpoint
from .spans import SpanWriter

if TYPE_CHECKING:
    from ..config import DashboardConfig

#: Seconds the exit waits for queued spans to be sent.
FLUSH_TIMEOUT_S = 2.0
#: Seconds between two console warnings about failed exports (the rest are counted).
WARN_INTERVAL_S = 60.0
#: The batch processor's delay between exports (ms) unless ``OTEL_BSP_SCHEDULE_DELAY`` is set:
#: shorter than the SDK's 5 s, so a request shows up in Jaeger about as soon as on screen.
SCHEDULE_DELAY_MS = 500
#: The SDK's loggers (exporter, processor, resources, ...).
OTEL_LOGGER = "opentelemetry"

Warn = Callable[[str], None]


class WarningRelay(logging.Handler):
    """The SDK's warnings and errors, as one line now and then (``say`` on any thread)."""

    def __init__(self, say: Warn, endpoint: str, interval_s: float = WARN_INTERVAL_S) -> None:
        super().__init__(logging.WARNING)
        self.say = say
        self.endpoint = endpoint
        self.interval_s = interval_s
        self.last = float("-inf")
        self.suppressed = 0
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self.last < self.interval_s:
                self.suppressed += 1
                return
            more, self.suppressed, self.last = self.suppressed, 0, now
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        text = f"OTLP export to {self.endpoint}: {summary(message)}"
        if more:
            text += f" ({more} more in the last {self.interval_s:.0f} s)"
        self.say(text + "; the dashboard goes on, spans are dropped meanwhile")


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def summary(message: str, limit: int = 200) -> str:
    """The SDK's message, short: the OS error when there is one ("Connection refused" instead
    of urllib3's whole retry story), else the message cut at ``limit`` characters."""
    errno = _ERRNO.search(message)
    if errno:
        return errno.group(1).strip()
    return message if len(message) <= limit else message[: limit - 3] + "..."


#: The relay on the SDK's logger. The SDK's loggers are per module, not per exporter, so a
#: record cannot be told apart by exporter: one relay at a time, the newest exporter's (there
#: is one per dashboard process; tests make more).
_installed: list[WarningRelay] = []


def install_relay(relay: WarningRelay) -> logging.Logger:
    """Put ``relay`` on the SDK's logger in place of the previous one; nothing reaches stderr."""
    logger = logging.getLogger(OTEL_LOGGER)
    for old in _installed:
        logger.removeHandler(old)
    _installed[:] = [relay]
    logger.addHandler(relay)
    logger.propagate = False
    logger.disabled = False
    return logger


def uninstall_relay(relay: WarningRelay) -> None:
    """Take ``relay`` off (if it is still the one installed) and give the logger back."""
    if relay in _installed:
        logger = logging.getLogger(OTEL_LOGGER)
        logger.removeHandler(relay)
        logger.propagate = True
        _installed.clear()


class OtlpExporter:
    """Called with every batch of events (the runtime's subscriber); ``close()`` at the end."""

    def __init__(
        self,
        *,
        service_name: str,
        server: tuple[str, int],
        warn: Warn,
        endpoint: str | None = None,
        keep_secrets: bool = False,
        span_exporter: SpanExporter | None = None,
    ) -> None:
        self.warn = warn
        self._loop: asyncio.AbstractEventLoop | None = None
        # First: what the SDK logs while it is set up (a bad OTEL_* value) must not reach stderr.
        self.relay = WarningRelay(self._say, endpoint or "the OTLP endpoint")
        self._logger = install_relay(self.relay)
        exporter = span_exporter or OTLPSpanExporter(endpoint=endpoint)
        self.span_exporter = exporter
        self.endpoint = endpoint or str(getattr(exporter, "_endpoint", "the OTLP endpoint"))
        self.relay.endpoint = self.endpoint
        self.provider = TracerProvider(resource=_resource(service_name), shutdown_on_exit=False)
        delay = None if os.environ.get("OTEL_BSP_SCHEDULE_DELAY") else SCHEDULE_DELAY_MS
        self.processor = BatchSpanProcessor(exporter, schedule_delay_millis=delay)
        self.provider.add_span_processor(self.processor)
        self.writer = SpanWriter(self.provider, self.processor.on_end, server, keep_secrets)
        #: ``OTEL_SDK_DISABLED=true`` turns the SDK off; the request spans, built without the
        #: tracer, must honour it too.
        self.disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
        self.closed = False
        #: Events that could not become spans (a bug here must never stop the dashboard).
        self.failed = 0
        atexit.register(self.close)

    @classmethod
    def from_config(cls, config: DashboardConfig, warn: Warn, keep_secrets: bool) -> OtlpExporter:
        return cls(
            service_name=service_name_for(config),
            server=(config.host, config.port),
            warn=warn,
            endpoint=traces_endpoint(config.otlp) if config.otlp else None,
            keep_secrets=keep_secrets,
        )

    def __call__(self, batch: Sequence[Event]) -> None:
        if self.closed or self.disabled:
            return
        if self._loop is None:
            with contextlib.suppress(RuntimeError):  # called outside a loop (tests, bench)
                self._loop = asyncio.get_running_loop()
        write = self.writer.write
        for event in batch:
            try:
                write(event)
            except Exception as exc:  # never the dashboard's problem: say it once
                self.failed += 1
                if self.failed == 1:
                    self._say(f"OTLP export: an event could not become a span ({exc!r})")

    def _say(self, text: str) -> None:
        """``warn`` on the loop's thread (the SDK logs from its own); stderr once it is gone.
        Fed from no loop at all (a script, a test), ``warn`` is called directly."""
        loop = self._loop
        if loop is None:
            self.warn(text)
            return
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(self.warn, text)
                return
        print(f"asgi-dash: warning: {text}", file=sys.stderr)

    def close(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        """End open WebSocket spans and send what is queued, within ``timeout_s``; True if all
        of it was handed to the collector in time. Idempotent (also run at exit)."""
        if self.closed:
            return True
        self.closed = True
        atexit.unregister(self.close)
        self.writer.end_open()
        # TracerProvider.shutdown() waits for the processor's worker without a bound (and the
        # exporter retries for up to OTEL_EXPORTER_OTLP_TIMEOUT): run it aside, wait at most
        # timeout_s, then abort the exporter's retries so the worker ends soon after.
        done = threading.Thread(target=self.provider.shutdown, name="otlp-flush", daemon=True)
        done.start()
        done.join(timeout_s)
        flushed = not done.is_alive()
        if not flushed:
            self._logger.disabled = True  # what the abandoned worker logs next is noise
            # A second shutdown only warns, a closed session may raise: both are fine here.
            with contextlib.suppress(Exception):
                self.span_exporter.shutdown()
        uninstall_relay(self.relay)
        return flushed


def service_name_for(config: DashboardConfig) -> str:
    """The project's name: its settings package (``demosite.settings`` -> ``demosite``)."""
    return config.settings_module.split(".")[0] or config.project_dir.name or "asgi-dash"


class HashedResource(Resource):
    """A ``Resource`` that computes its hash once.

    The OTLP encoder groups spans by resource, a dict lookup that hashes the resource for every
    span, and ``Resource.__hash__`` serialises all its attributes to JSON each time: 15-20% of
    the encoding CPU (profiled: 14,000 spans, ``encode_spans``). A resource is immutable, so
    one hash is right for its whole life.
    """

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return other is self or super().__eq__(other)


def _resource(service_name: str) -> Resource:
    """The SDK's resource from the environment (``OTEL_SERVICE_NAME``,
    ``OTEL_RESOURCE_ATTRIBUTES``), named ``service_name`` when the environment names none."""
    resource = Resource.create({})
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": service_name}))
    return HashedResource(resource)


__all__ = [
    "FLUSH_TIMEOUT_S",
    "OtlpExporter",
    "WarningRelay",
    "service_name_for",
]
