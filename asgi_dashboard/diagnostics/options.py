"""The options of ``asgi-dash probe`` and ``asgi-dash replay``, added to the CLI's subparsers.

Standard library only: the CLI builds every subcommand's parser before it knows which one runs,
and its early path (the first server is forked before the rest of the dashboard is imported,
see ``runtime/launch.py``) must not pay for httpx or the event schema.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: ``asgi-dash probe`` defaults, also the compare screen's.
DEFAULT_REQUESTS = 100
DEFAULT_CONCURRENCY = 10

#: Exit codes of both subcommands: 0 done, 1 the run had errors or the answer changed, 2 refused
#: or bad input (``config.EXIT_BAD_INPUT``).
EXIT_ERRORS = 1

PROBE_DESCRIPTION = (
    "Fire N requests with concurrency C at one or two URLs of a running server (each URL in "
    "turn) and print requests/s, p50/p95/p99, errors and a latency histogram side by side. "
    "Loopback hosts only unless --allow-remote."
)
REPLAY_DESCRIPTION = (
    "Re-send a captured request to the running server and diff the answer (status, headers, "
    "body, timing) against the original."
)


def add_probe_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("urls", nargs="+", metavar="URL", help="one or two full URLs")
    p.add_argument("-n", "--requests", type=int, default=DEFAULT_REQUESTS)
    p.add_argument("-c", "--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    p.add_argument("-X", "--method", default="GET")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--allow-remote", action="store_true", help="allow non-loopback hosts")
    p.add_argument(
        "--events",
        type=Path,
        help="the server's `asgi-dash --headless --json` output: adds the server-side breakdown",
    )
    p.add_argument("--events-wait", type=float, default=5.0, help="seconds to wait for them")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def add_replay_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", nargs="?", help="request id from the events (e.g. 1-4)")
    p.add_argument("--events", type=Path, required=True, help="`--headless --json` output")
    p.add_argument("--last", metavar="PATH", help="replay the newest request to PATH instead")
    p.add_argument("--to", metavar="URL", help="server base URL (default: newest in the file)")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --to")
