"""OpenTelemetry export (``--otlp``): the dashboard's typed events as OTLP/HTTP traces.

Off the request path by construction: the spans are built in the dashboard process (the
parent) from the events it already receives (:class:`~asgi_dashboard.events.RequestFinished`,
the ``Ws*`` events), after the request has been answered, and sent by the official SDK's
``BatchSpanProcessor`` + ``OTLPSpanExporter`` on the SDK's own thread. The runtime hands every
batch to :class:`.exporter.OtlpExporter` through its one subscriber hook
(:func:`asgi_dashboard.runtime.base.subscribed`).

The modules: :mod:`.timeline` (where each child span goes when only durations are known: pure),
:mod:`.attributes` (semantic-convention attributes of each span: pure), :mod:`.spans` (events ->
SDK spans), :mod:`.exporter` (provider, processor, exporter, warnings, bounded shutdown).

This module imports nothing of the SDK: the CLI asks :func:`missing_sdk` before starting.
"""

from __future__ import annotations

import importlib.util

#: What to install when the SDK is missing (the ``otlp`` extra of pyproject.toml).
INSTALL_HINT = "pip install 'asgi-dash[otlp]'"
#: The OTLP/HTTP path of traces, appended to a base endpoint (as the SDK does for
#: ``OTEL_EXPORTER_OTLP_ENDPOINT``).
TRACES_PATH = "v1/traces"


def missing_sdk() -> str | None:
    """One sentence saying what to install, or None when the SDK and exporter are importable."""
    for module in ("opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return (
                f"--otlp needs the OpenTelemetry SDK and its OTLP/HTTP exporter ({module} is "
                f"not installed): {INSTALL_HINT}"
            )
    return None


def traces_endpoint(url: str) -> str:
    """``--otlp URL`` as the exporter's endpoint: a base URL gets ``/v1/traces`` (like
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); a URL already ending with it is kept."""
    url = url.strip()
    if url.rstrip("/").endswith("/" + TRACES_PATH):
        return url
    return url.rstrip("/") + "/" + TRACES_PATH


__all__ = ["INSTALL_HINT", "TRACES_PATH", "missing_sdk", "traces_endpoint"]
