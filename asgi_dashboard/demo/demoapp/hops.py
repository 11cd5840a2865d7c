"""``/hops/``: what a sync-only middleware costs an async view, shown as thread hops.

A middleware written before async Django (no ``async_capable``) in an async chain is adapted by
Django with ``sync_to_async`` (``BaseHandler.adapt_method_mode``), and the rest of the chain below
it with ``async_to_sync``: each request hops from the event loop to a thread to run it, and back
to the loop for the async view. Listed in ``settings.MIDDLEWARE`` it would do that for *every*
page of the demo (and the middleware audit would flag it), so this page builds the same chain for
itself alone, with the same Django function: :data:`legacy_chain` is
``adapt_method_mode(True, convert_exception_to_response(LegacyHeaderMiddleware(
adapt_method_mode(False, inner_view))))``, exactly what ``BaseHandler.load_middleware`` makes of
a sync-only middleware above an async handler.

The async view inside then runs two sync helpers together with ``asyncio.gather`` of
``sync_to_async``: both are thread-sensitive, so they share the request's one sync thread (Django
enters a ``ThreadSensitiveContext`` per request) and the second waits for the first: the waterfall
in asgi-dash's request detail shows that wait, the threads and the line of each call.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import Item

#: Milliseconds the slow helper sleeps (``?ms=``), bounded.
DEFAULT_MS = 20
MAX_MS = 2000


class LegacyHeaderMiddleware:
    """A sync-only middleware (no ``async_capable``): stamps the response with the thread it ran
    on, which is not the event loop's."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Legacy-Thread"] = threading.current_thread().name
        return response


def _slow_lookup(ms: int) -> int:
    """Sync code that takes a while (a legacy client library, say)."""
    time.sleep(ms / 1000)
    return ms


def _count_items() -> int:
    return Item.objects.count()


def _ms(request: HttpRequest) -> int:
    try:
        ms = int(request.GET.get("ms", DEFAULT_MS))
    except ValueError:
        return DEFAULT_MS
    return min(max(ms, 0), MAX_MS)


async def _inner_view(request: HttpRequest) -> HttpResponse:
    slept, items = await asyncio.gather(
        sync_to_async(_slow_lookup)(_ms(request)),
        sync_to_async(_count_items)(),
    )
    return JsonResponse({"view": "hops", "slept_ms": slept, "items": items})


def _build_chain() -> Any:
    adapt = BaseHandler().adapt_method_mode
    below = adapt(False, _inner_view, True)  # async_to_sync: the middleware's get_response
    middleware = LegacyHeaderMiddleware(below)
    return adapt(True, convert_exception_to_response(middleware), False)  # sync_to_async


legacy_chain = _build_chain()


async def hops_page(request: HttpRequest) -> HttpResponse:
    """Async view behind a sync-only middleware: loop -> thread -> loop -> thread (x2) -> loop."""
    response: HttpResponse = await legacy_chain(request)
    return response
