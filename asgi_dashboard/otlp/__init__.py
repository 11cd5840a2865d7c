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

This module imports nothing of the SDK (the CLI imports it to parse ``--otlp``): the SDK's
presence is checked with :func:`missing_sdk` before anything starts.
"""

from __future__ import annotations

import argparse
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


def add_otlp_argument(p: argparse.ArgumentParser) -> None:
    """``--otlp [URL]`` (``asgi-dash run`` and ``asgi-dash collect``)."""
    p.add_argument(
        "--otlp",
        nargs="?",
        const="",
        default=None,
        metavar="URL",
        help="export each request and WebSocket as OpenTelemetry spans over OTLP/HTTP to URL (a "
        "collector's base URL, e.g. http://localhost:4318) or where OTEL_EXPORTER_OTLP_ENDPOINT "
        f"says (default localhost:4318); needs {INSTALL_HINT}",
    )


def otlp_from_args(args: argparse.Namespace) -> str | None:
    """``--otlp [URL]`` for ``DashboardConfig.otlp`` (None: off); a missing SDK or a URL that is
    not one is refused with one sentence (a ``DiscoveryError``: exit code 2, as bad input)."""
    if args.otlp is None:
        return None
    from ..config import DiscoveryError

    if (missing := missing_sdk()) is not None:
        raise DiscoveryError(missing)
    if args.otlp and not args.otlp.startswith(("http://", "https://")):
        raise DiscoveryError(
            f"--otlp {args.otlp}: give an http:// or https:// URL (a project folder goes "
            "before --otlp)."
        )
    return str(args.otlp)


__all__ = [
    "INSTALL_HINT",
    "TRACES_PATH",
    "add_otlp_argument",
    "missing_sdk",
    "otlp_from_args",
    "traces_endpoint",
]
