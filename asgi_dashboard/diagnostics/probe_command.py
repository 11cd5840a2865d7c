"""``asgi-dash probe`` and ``asgi-dash replay``: the diagnostics as headless subcommands.

Both target a server that is already running (started by ``asgi-dash`` in another terminal, or
any server on this machine). The server-side figures come from that server's events: run it as
``asgi-dash --headless --json > events.jsonl`` and pass ``--events events.jsonl``; the probe then
adds what the server measured (view, thread wait, SQL) for exactly the requests it sent, matched
by the ``x-asgi-dash-probe`` header.

Exit codes: 0 done, 1 the run had errors (transport errors or 5xx), 2 refused or bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import EXIT_BAD_INPUT
from ..events import DecodeError, Event, RequestFinished, from_dict
from .probe import (
    DEFAULT_CONCURRENCY,
    DEFAULT_REQUESTS,
    ProbeConfig,
    ProbeRefused,
    ProbeResult,
    attach_server_events,
    probe_marker,
    run_probe,
)
from .probe_text import format_probe

EXIT_ERRORS = 1


def read_events(path: Path) -> list[Event]:
    """Every decodable event line of a ``--headless --json`` capture (others are skipped)."""
    out: list[Event] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            out.append(from_dict(json.loads(line)))
        except (ValueError, DecodeError):
            continue
    return out


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


def build_probe_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="asgi-dash probe",
        description="Fire N requests with concurrency C at one or two URLs of a running server "
        "(each URL in turn) and print requests/s, p50/p95/p99, errors and a latency histogram "
        "side by side. Loopback hosts only unless --allow-remote.",
    )
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
    return p


def probe_main(argv: Sequence[str]) -> int:
    args = build_probe_parser().parse_args(argv)
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
    else:
        print(format_probe(result))
    return EXIT_ERRORS if any(r.errors for r in result.results) else 0


def probe_json(result: ProbeResult) -> dict[str, object]:
    from dataclasses import asdict

    data = asdict(result)
    for r, out in zip(result.results, data["results"], strict=True):
        out.pop("latencies_ns")
        out.update(
            requests_per_s=r.requests_per_s,
            ok=r.ok,
            p50_ns=r.p(50),
            p95_ns=r.p(95),
            p99_ns=r.p(99),
        )
    return data


def main(argv: Sequence[str]) -> int:
    """Dispatch ``probe ...`` / ``replay ...`` (``argv[0]`` is the subcommand)."""
    command, rest = argv[0], list(argv[1:])
    if command == "probe":
        return probe_main(rest)
    if command == "replay":
        from .replay_command import replay_main

        return replay_main(rest)
    print(f"asgi-dash: unknown command {command!r}", file=sys.stderr)
    return EXIT_BAD_INPUT


COMMANDS = ("probe", "replay")
