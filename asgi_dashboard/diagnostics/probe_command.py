"""``asgi-dash probe``: fire requests at a running server and print what they measured.

It targets a server that is already running (started by ``asgi-dash`` in another terminal, or
any server on this machine). The server-side figures come from that server's events: run it as
``asgi-dash --headless --json > events.jsonl`` and pass ``--events events.jsonl``; the probe then
adds what the server measured (view, thread wait, SQL) for exactly the requests it sent, matched
by the ``x-asgi-dash-probe`` header.

Exit codes: 0 done, 1 the run had errors (transport errors or 5xx) or no request to a URL
succeeded (status < 400), 2 refused or bad input.
The options are declared in :mod:`.options` (the CLI builds its parsers without importing httpx);
``asgi-dash replay`` is :mod:`.replay_command`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from ..config import EXIT_BAD_INPUT
from ..events import Event, RequestFinished
from .capture import read_events
from .options import EXIT_ERRORS
from .probe import (
    ProbeConfig,
    ProbeRefused,
    ProbeResult,
    attach_server_events,
    probe_marker,
    run_probe,
)
from .probe_text import format_probe, no_success


def wait_for_probe_events(path: Path, result: ProbeResult, timeout: float) -> list[Event]:
    """Re-read the capture until it holds an event for every completed request (bounded)."""
    expected = sum(len(r.latencies_ns) for r in result.results)
    deadline = time.monotonic() + timeout
    while True:
        events = read_events(path)
        seen = sum(
            1
            for e in events
            if isinstance(e, RequestFinished)
            and (probe_marker(e) or "").startswith(result.run_id + ":")
        )
        if seen >= expected or time.monotonic() >= deadline:
            return events
        time.sleep(0.1)


def probe_main(args: argparse.Namespace) -> int:
    """Run ``asgi-dash probe`` with its parsed options; the exit code."""
    config = ProbeConfig(
        urls=tuple(args.urls),
        requests=args.requests,
        concurrency=args.concurrency,
        method=args.method.upper(),
        timeout=args.timeout,
        allow_remote=args.allow_remote,
    )
    try:
        result = asyncio.run(run_probe(config))
    except ProbeRefused as exc:
        print(f"asgi-dash probe: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_ERRORS
    if args.events is not None:
        result = attach_server_events(
            result, wait_for_probe_events(args.events, result, args.events_wait)
        )
    if args.json:
        print(json.dumps(probe_json(result)))
        for line in no_success(result):  # the table says it; JSON readers get it on stderr
            print(f"asgi-dash probe: {line}", file=sys.stderr)
    else:
        print(format_probe(result))
    failed = any(r.errors or not r.ok for r in result.results)
    return EXIT_ERRORS if failed else 0


def probe_json(result: ProbeResult) -> dict[str, object]:
    from dataclasses import asdict

    data = asdict(result)
    for r, out in zip(result.results, data["results"], strict=True):
        out.pop("latencies_ns")
        answered = bool(r.latencies_ns)  # no answer: null, not a rate of failures or 0 ns
        out.update(
            requests_per_s=r.requests_per_s if answered else None,
            ok=r.ok,
            p50_ns=r.p(50) if answered else None,
            p95_ns=r.p(95) if answered else None,
            p99_ns=r.p(99) if answered else None,
        )
    return data
