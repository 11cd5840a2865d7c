"""``asgi-dash collect``: the dashboard for processes asgi-dash did not start.

The same TUI and the same headless output (``--headless``, ``--json``) as ``asgi-dash run``,
fed by :class:`~asgi_dashboard.runtime.collector.CollectorRuntime` instead of a server of our
own: every process whose ASGI application is wrapped by ``asgi_dashboard.attach`` reports to it
over a Unix socket. There is no server control (no reload, no restart, no port).

A live collector already on the socket is refused before anything starts (exit code 2, one line
on stderr), as a busy ``--port`` is for ``run``. Imported by :mod:`.cli` to build its parser:
nothing heavy at import time.
"""

from __future__ import annotations

import argparse
import os
import sys

from .otlp import add_otlp_argument, otlp_from_args

COLLECT_DESCRIPTION = (
    "Watch processes asgi-dash did not start (gunicorn workers, daphne, manage.py runworker) "
    "whose asgi.py wraps the application: `application = asgi_dashboard.attach(application)`. "
    "They report over a Unix socket: $ASGI_DASH_COLLECT, else "
    "$XDG_RUNTIME_DIR/asgi-dash/collect.sock (0600, never a TCP port)."
)


def add_collect_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--socket",
        metavar="PATH",
        help="the Unix socket to listen on (default: $ASGI_DASH_COLLECT, else the runtime dir's)",
    )
    p.add_argument("--headless", action="store_true", help="no TUI: print one line per event")
    p.add_argument("--json", action="store_true", help="with --headless: JSON lines")
    p.add_argument(
        "--keep-secrets",
        action="store_true",
        help="with --json: print Authorization, Cookie and Set-Cookie values",
    )
    p.add_argument("--history", type=int, default=5000, help="requests kept in the UI")
    add_otlp_argument(p)


def run_collect(args: argparse.Namespace) -> int:
    """Bind the socket (refusing a live collector), then the TUI or the headless printer."""
    from pathlib import Path

    from .attaching.paths import ENV, socket_path
    from .config import EXIT_BAD_INPUT, DashboardConfig, DiscoveryError

    path = os.path.abspath(args.socket) if args.socket else socket_path()
    if path is None:
        print(f"asgi-dash: {ENV}=off: set it to a socket path (or unset it)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.socket:
        os.environ[ENV] = path  # an explicit path: the folder is the user's choice (paths.py)
    from .runtime.collector import CollectorBusy, bind_collector_socket

    try:
        # Refuse a live collector (or an unusable path) before the UI starts; the runtime
        # binds again right after (the stale/own socket is replaced then).
        bind_collector_socket(path, strict=ENV not in os.environ).close()
        os.unlink(path)
    except (CollectorBusy, OSError, ValueError) as exc:
        print(f"asgi-dash: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        otlp = otlp_from_args(args)  # --otlp: the spans of attached processes too
    except DiscoveryError as exc:
        print(f"asgi-dash: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    config = DashboardConfig(
        project_dir=Path.cwd(),
        settings_module="",
        settings_source="",
        reload=False,
        history=max(100, args.history),
        collect_socket=path,
        otlp=otlp,
        otlp_keep_secrets=args.keep_secrets,
    )
    headless = args.headless or args.json or not sys.stdout.isatty()
    if headless:
        import asyncio

        from .headless import run_headless

        try:
            return asyncio.run(
                run_headless(config, json_lines=args.json, keep_secrets=args.keep_secrets)
            )
        except KeyboardInterrupt:
            return 0
    from .app import make_app
    from .runtime import make_runtime

    # A runtime factory given: the app runs no project tools (there is no project of ours).
    app = make_app(config, make_runtime)
    app.run()
    return app.return_code or 0


__all__ = ["COLLECT_DESCRIPTION", "add_collect_arguments", "run_collect"]
