"""Worker of figure 1b (run as ``python -m bench.tapcost_worker SPEC``; see :mod:`bench.tapcost`).

Loads one project (its settings, its ASGI application), installs asgi-dash's hooks and builds the
tap exactly as the server process does (``InstrumentedApp`` over a real ``PipeSink`` whose pipe a
thread drains), then calls the *same* application object raw and tapped, in alternating blocks of
``block`` requests, and prints the CPU time per request of each, and the median ratio of
adjacent blocks, as JSON. The hooks are installed
for the raw calls too, but do nothing outside a tapped request (one context-variable read per
hook), so the difference is what the instrumentation costs a request.

With ``"sql_statements": N`` in the spec it also measures one SQL statement alone: blocks of N
``cursor.execute("SELECT %s, %s", [i, "bench"])`` on Django's connection (the project's own
database), outside any request (the hooks do nothing) and inside one (a ``RequestRecord`` is
current, as in a request, so each statement is timed, its parameters and the issuing project line
recorded). Twice: issued by a loop compiled as a file of the project (a view's loop: the line is
found, and recognised again for the next statement) and as this file (Django's or a library's
code: the search for a project frame walks the whole stack every time, the worst case).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import threading
import time
from typing import Any


def _scope(path: str) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
    }  # fmt: skip


async def _request(app: Any, path: str) -> int:
    messages: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect: Django cancels this when it is done
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(_scope(path), receive, send)
    return int(messages[0]["status"])


async def _measure(raw: Any, tapped: Any, path: str, blocks: int, block: int) -> dict[str, Any]:
    for app in (raw, tapped):  # warm-up: imports, template and URL caches, DB connection
        for _ in range(block):
            status = await _request(app, path)
    cpu = {"raw": 0.0, "tapped": 0.0}
    count = {"raw": 0, "tapped": 0}
    pair_ratios = []
    for b in range(blocks):
        order = (("raw", raw), ("tapped", tapped))
        took = {}
        for name, app in order if b % 2 == 0 else order[::-1]:
            t0 = time.process_time()  # all threads: the executor runs the sync views
            for _ in range(block):
                await _request(app, path)
            took[name] = time.process_time() - t0
            cpu[name] += took[name]
            count[name] += block
        pair_ratios.append(took["raw"] / took["tapped"])
    pair_ratios.sort()
    return {
        "path": path,
        "status": status,
        "raw_us": cpu["raw"] / count["raw"] * 1e6,
        "tapped_us": cpu["tapped"] / count["tapped"] * 1e6,
        # Adjacent blocks are close in time: the median of their ratios resists machine drift.
        "pair_ratio": pair_ratios[len(pair_ratios) // 2],
        "requests": count["raw"] + count["tapped"],
    }


_LOOP = """
def loop(cursor, statements):
    for i in range(statements):
        cursor.execute("SELECT %s, %s", [i, "bench"])
"""


def _loop_in(filename: str) -> Any:
    """The statement loop, compiled as if it were written in ``filename``: whether the issuing
    line is found in the project's code (a view's loop) or not (Django's or a library's)."""
    namespace: dict[str, Any] = {}
    exec(compile(_LOOP, filename, "exec"), namespace)
    return namespace["loop"]


def _sql_statement_cost(blocks: int, statements: int, issuer: str) -> dict[str, Any]:
    from django.db import connection

    from asgi_dashboard.instrument.records import RequestRecord, current

    loop = _loop_in(issuer)

    def run(tapped: bool) -> float:
        token = current.set(RequestRecord(start_ns=time.perf_counter_ns())) if tapped else None
        try:
            t0 = time.process_time()
            with connection.cursor() as cursor:
                loop(cursor, statements)
            return time.process_time() - t0
        finally:
            if token is not None:
                current.reset(token)

    run(False), run(True)  # warm-up: the connection, the source cache
    cpu = {"raw": 0.0, "tapped": 0.0}
    ratios = []
    for b in range(blocks):
        took = {}
        for tapped in (False, True) if b % 2 == 0 else (True, False):
            took[tapped] = run(tapped)
        cpu["raw"] += took[False]
        cpu["tapped"] += took[True]
        ratios.append(took[False] / took[True])
    ratios.sort()
    n = blocks * statements
    return {
        "statements": n,
        "raw_us": cpu["raw"] / n * 1e6,
        "tapped_us": cpu["tapped"] / n * 1e6,
        "pair_ratio": ratios[len(ratios) // 2],
    }


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.path.insert(0, spec["project_dir"])
    os.environ["DJANGO_SETTINGS_MODULE"] = spec["settings"]
    module, _, attr = spec["asgi"].partition(":")
    raw = getattr(importlib.import_module(module), attr)

    from asgi_dashboard.instrument import InstrumentedApp, PipeSink, install

    install(spec["project_dir"])
    read_end, write_end = os.pipe()

    def drain() -> None:
        while os.read(read_end, 1 << 16):
            pass

    threading.Thread(target=drain, daemon=True).start()
    tapped = InstrumentedApp(raw, PipeSink(write_end), generation=1)
    results = [
        asyncio.run(_measure(raw, tapped, path, spec["blocks"], spec["block"]))
        for path in spec["paths"]
    ]
    from bench import hopcost

    for result in results:  # the thread-hop timeline's part, by its parts (bench/hopcost.py)
        result["timeline"] = hopcost.measure(tapped, result["path"], _request)
    sql = None
    if spec.get("sql_statements"):
        issuers = {
            "library": __file__,
            "project": os.path.join(spec["project_dir"], "asgi_dash_bench_loop.py"),
        }
        sql = {
            name: _sql_statement_cost(spec["blocks"], spec["sql_statements"], issuer)
            for name, issuer in issuers.items()
        }
    print(json.dumps({"views": results, "sql": sql}))


if __name__ == "__main__":
    main()
