"""Small JSON endpoints and ``/fanout/``, an async view that calls them concurrently.

The fan-out shows the case async views are really for: waiting on several slow I/O calls at
once. Two sequential calls would take the sum of their times; ``asyncio.gather`` takes the max.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
from django.http import HttpRequest, JsonResponse

FANOUT_PATHS = ("api/data1/", "api/data2/")
FANOUT_TIMEOUT_S = 5.0


async def data1(request: HttpRequest) -> JsonResponse:
    """Answers at once."""
    return JsonResponse({"source": "data1", "values": [1, 2, 3]})


async def data2(request: HttpRequest) -> JsonResponse:
    """Answers after 20 ms, so the fan-out's total is visibly the max, not the sum."""
    await asyncio.sleep(0.02)
    return JsonResponse({"source": "data2", "values": [4, 5, 6]})


async def _timed_get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    started = time.perf_counter()
    response = await client.get(path)
    return {
        "url": str(response.url),
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "data": response.json(),
    }


async def fanout(request: HttpRequest) -> JsonResponse:
    """Fetch ``/api/data1/`` and ``/api/data2/`` concurrently and combine the results.

    The base URL is ``$DEMO_FANOUT_BASE`` if set (read per request, so it can change without a
    restart), else this server as the request reached it: asgi-dash picks the port at run time
    and the demo must work offline.
    """
    explicit_base = os.environ.get("DEMO_FANOUT_BASE")
    base = explicit_base or request.build_absolute_uri("/")
    if not base.endswith("/"):
        base += "/"
    started = time.perf_counter()
    # Proxy variables are honoured only for an explicit base: calls back to this server must go
    # straight to loopback, not to a proxy that cannot reach it.
    async with httpx.AsyncClient(
        base_url=base, timeout=FANOUT_TIMEOUT_S, trust_env=bool(explicit_base)
    ) as client:
        try:
            calls = await asyncio.gather(*(_timed_get(client, path) for path in FANOUT_PATHS))
        except httpx.HTTPError as exc:
            return JsonResponse(
                {
                    "view": "fanout",
                    "base": base,
                    "error": f"{type(exc).__name__}: {exc}",
                    "hint": "set DEMO_FANOUT_BASE to this server's URL",
                },
                status=502,
            )
    return JsonResponse(
        {
            "view": "fanout",
            "base": base,
            "total_ms": round((time.perf_counter() - started) * 1000, 1),
            "calls": list(calls),
        }
    )
