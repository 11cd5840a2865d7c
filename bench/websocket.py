"""Figure 6: WebSocket echo through the demo's ``/ws/echo/``, asgi-dash vs plain uvicorn.

Per server and round, over one connection (``origin="http://127.0.0.1"``: the demo's
``AllowedHostsOriginValidator`` rejects handshakes without one):

* **round trip**: ``n`` sequential messages, each sent after the previous reply arrived
  (``"You said: <text>"``); median and p99 over all rounds;
* **pipelined burst**: ``burst`` messages sent back to back, then all replies read;
  messages/s = burst / time until the last reply (median over rounds).

Rounds are interleaved across servers with a rotating order; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from .stats import median, percentile, ratio

TIMEOUT = 10.0


@dataclass
class WsResult:
    rtt_ms: dict[str, list[float]] = field(default_factory=dict)
    burst_rate: dict[str, list[float]] = field(default_factory=dict)


async def _round(url: str, n: int, burst: int) -> tuple[list[float], float]:
    ws_url = url.replace("http://", "ws://") + "/ws/echo/"
    async with connect(ws_url, origin="http://127.0.0.1", open_timeout=TIMEOUT) as ws:  # type: ignore[arg-type]
        rtts = []
        for i in range(n):
            t0 = time.perf_counter()
            await ws.send(f"m{i}")
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            rtts.append((time.perf_counter() - t0) * 1e3)
            if reply != f"You said: m{i}":
                raise RuntimeError(f"unexpected reply {reply!r}")
        t0 = time.perf_counter()
        for i in range(burst):
            await ws.send(f"b{i}")
        for _ in range(burst):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        return rtts, burst / (time.perf_counter() - t0)


async def _measure(urls: dict[str, str], rounds: int, n: int, burst: int) -> WsResult:
    result = WsResult()
    kinds = list(urls)
    for kind in kinds:  # warm-up
        await _round(urls[kind], 20, 50)
    for r in range(rounds):
        for kind in kinds[r % len(kinds) :] + kinds[: r % len(kinds)]:
            rtts, rate = await _round(urls[kind], n, burst)
            result.rtt_ms.setdefault(kind, []).extend(rtts)
            result.burst_rate.setdefault(kind, []).append(rate)
    return result


def measure(urls: dict[str, str], *, rounds: int, n: int, burst: int) -> WsResult:
    return asyncio.run(_measure(urls, rounds, n, burst))


def table(r: WsResult) -> list[list[str]]:
    rows = [["server", "RTT median ms", "RTT p99 ms", "RTT ratio", "burst msg/s", "burst ratio",
             "target"]]  # fmt: skip
    base = sorted(r.rtt_ms.get("uvicorn", []))
    base_rate = median(r.burst_rate.get("uvicorn", []))
    for kind, values in r.rtt_ms.items():
        s = sorted(values)
        rtt_ratio = ratio(median(s), median(base))
        verdict = ""
        if kind != "uvicorn":
            verdict = "<=1.1x RTT: " + ("met" if rtt_ratio <= 1.1 else "NOT met")
        rate = median(r.burst_rate[kind])
        rows.append(
            [kind, f"{median(s):.3f}", f"{percentile(s, 99):.3f}", f"{rtt_ratio:.3f}",
             f"{rate:,.0f}", f"{ratio(rate, base_rate):.2f}", verdict]
        )  # fmt: skip
    return rows
