"""Load generators: ``wrk`` when installed, else a bounded asyncio HTTP/1.1 keep-alive client.

``wrk`` runs with one thread (this is a 2-core machine: one core for the load, one for the
server) and a Lua ``done`` hook that prints its summary as one JSON line, so the request count is
the one wrk itself completed. The fallback client (:func:`run_client`) speaks just enough
HTTP/1.1 (keep-alive, ``Content-Length`` bodies) to stay cheap; it stops after ``total``
responses or ``seconds``, whichever comes first, and is also the exact-count client of the event
pipeline benchmark (every request it sends, it reads the answer of).
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .stats import percentile

WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def tool_name(prefer: str = "auto") -> str:
    """ "wrk" or "pyclient" (the fallback), as :func:`run_load` will use."""
    if prefer == "pyclient" or (prefer == "auto" and not have_wrk()):
        return "pyclient"
    return "wrk"


def run_wrk(url: str, seconds: float, connections: int) -> LoadResult:
    """``wrk`` takes whole seconds: ``seconds`` is rounded up (at least 1)."""
    whole = max(1, math.ceil(seconds))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA)
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{whole}s", "--timeout", "5s", "-s", script, url],
            capture_output=True,
            text=True,
            timeout=whole + 30,
            check=True,
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH "))
    data = json.loads(line[6:])
    return LoadResult(
        tool="wrk",
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"] + data["non2xx"],
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
    )


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> None:
    """Consume a response body: ``Content-Length`` or ``Transfer-Encoding: chunked``."""
    lower = head.lower()
    if b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                return
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            await reader.readexactly(int(line[15:]))
            return


async def _client_async(
    url: str, connections: int, seconds: float, total: int | None
) -> LoadResult:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port_s = hostport.rpartition(":")
    request = f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode()
    deadline = time.perf_counter() + seconds
    sent = 0
    done = 0
    errors = 0
    latencies: list[float] = []

    async def worker() -> None:
        nonlocal sent, done, errors
        reader, writer = await asyncio.open_connection(host, int(port_s))
        try:
            while time.perf_counter() < deadline and (total is None or sent < total):
                sent += 1
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                await _read_body(reader, head)
                latencies.append(time.perf_counter() - t0)
                if head[9:10] == b"2":
                    done += 1
                else:
                    errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(connections))), seconds + 30)
    elapsed = time.perf_counter() - start
    latencies.sort()
    return LoadResult(
        tool="pyclient",
        requests=done,
        seconds=elapsed,
        errors=errors,
        p50_ms=percentile(latencies, 50) * 1e3,
        p99_ms=percentile(latencies, 99) * 1e3,
    )


def run_client(
    url: str, *, connections: int, seconds: float, total: int | None = None
) -> LoadResult:
    """The bounded asyncio client: at most ``total`` requests (if given) and ``seconds``."""
    return asyncio.run(_client_async(url, connections, seconds, total))


def run_load(url: str, seconds: float, connections: int, prefer: str = "auto") -> LoadResult:
    if tool_name(prefer) == "wrk":
        return run_wrk(url, seconds, connections)
    return run_client(url, connections=connections, seconds=seconds)


def main() -> None:
    """``python -m bench.load URL TOTAL CONNECTIONS``: the exact-count client, JSON summary."""
    import sys

    url, total, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = run_client(url, connections=connections, seconds=240, total=total)
    print(json.dumps({"requests": result.requests, "errors": result.errors,
                      "seconds": result.seconds}))  # fmt: skip


if __name__ == "__main__":
    main()
