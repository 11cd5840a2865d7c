"""``asgi-dash replay``: re-send a request captured in a ``--headless --json`` event file.

    asgi-dash --headless --json > events.jsonl        # terminal 1 (the server)
    asgi-dash replay --events events.jsonl 1-4         # terminal 2: request id 1-4
    asgi-dash replay --events events.jsonl --last /sync/

The target is the URL of the newest ``server-started`` event in the file (the server as it runs
now, after any restart) unless ``--to`` names one. Exit codes: 0 same response, 1 it changed,
2 bad input (no such request, unreplayable, server unreachable). A capture made without
``--keep-secrets`` has Cookie/Authorization redacted: the request is replayed without them, and
stderr says so first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx

from ..config import EXIT_BAD_INPUT
from ..events import RequestFinished, ServerStarted
from .capture import read_events
from .options import EXIT_ERRORS
from .probe import is_loopback_url
from .replay import REPLAY_HEADER, ReplayError, format_diff, missing_secrets, replay


def replay_main(args: argparse.Namespace) -> int:
    """Run ``asgi-dash replay`` with its parsed options (declared in :mod:`.options`)."""
    events = read_events(args.events)
    requests = [
        e
        for e in events
        if isinstance(e, RequestFinished)
        and not any(k.lower() == REPLAY_HEADER for k, _ in e.request_headers)
    ]
    if args.last:
        matching = [e for e in requests if e.path == args.last]
    else:
        matching = [e for e in requests if e.id == args.id]
    if not matching:
        what = f"to {args.last}" if args.last else f"with id {args.id!r}"
        print(f"asgi-dash replay: no request {what} in {args.events}", file=sys.stderr)
        return EXIT_BAD_INPUT
    base = args.to
    if base is None:
        started = [e for e in events if isinstance(e, ServerStarted)]
        if not started:
            print("asgi-dash replay: no server-started event: pass --to URL", file=sys.stderr)
            return EXIT_BAD_INPUT
        base = started[-1].url
    if not args.allow_remote and not is_loopback_url(base):
        print(f"asgi-dash replay: {base} is not a loopback address", file=sys.stderr)
        return EXIT_BAD_INPUT
    missing = missing_secrets(matching[-1])
    if missing:
        # Said before the result, on stderr: the diff below is of an unauthenticated request.
        print(
            f"asgi-dash replay: the capture has {', '.join(missing)} redacted, so the request is "
            "re-sent without them (as a logged-out client). To reproduce an authenticated "
            "request, capture with `asgi-dash --headless --json --keep-secrets`.",
            file=sys.stderr,
        )
    try:
        diff = asyncio.run(replay(matching[-1], base, timeout=args.timeout))
    except (ReplayError, httpx.HTTPError) as exc:
        print(f"asgi-dash replay: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(format_diff(diff))
    return 0 if diff.same else EXIT_ERRORS
