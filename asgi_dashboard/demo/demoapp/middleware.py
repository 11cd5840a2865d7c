"""``TimingMiddleware``: adds a ``Server-Timing`` header with the time spent below it.

The middleware is written to work in both sync and async chains, following Django's
"Asynchronous support" section of the middleware docs. Why that matters: Django builds the
middleware chain once (``BaseHandler.load_middleware`` in ``django/core/handlers/base.py``) and,
under ASGI, wants every layer to be async. A sync-only middleware in an async chain is adapted
with ``sync_to_async`` (``BaseHandler.adapt_method_mode``), so *every* request would hop to a
worker thread and back just to run it, even when the view is async: extra latency and a thread
per in-flight request, for a middleware that does no I/O at all. Declaring both capabilities
lets Django call it in whichever mode the next layer uses, with no adaptation.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class TimingMiddleware:
    """Measure the rest of the chain (inner middleware + view) and report it as ``app;dur=ms``.

    For a streaming response the figure covers producing the response object, not sending the
    body: headers must be final before the first body chunk goes out.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        # asgiref's iscoroutinefunction (not inspect's) also recognises callables marked with
        # markcoroutinefunction, which is how Django marks its own async handlers.
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            # Tell Django this instance is async, so the layer above awaits it directly.
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        started = time.perf_counter()
        response = cast(SyncGetResponse, self.get_response)(request)
        return self._add_header(response, started)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = await cast(AsyncGetResponse, self.get_response)(request)
        return self._add_header(response, started)

    @staticmethod
    def _add_header(response: HttpResponseBase, started: float) -> HttpResponseBase:
        duration_ms = (time.perf_counter() - started) * 1000
        entry = f"app;dur={duration_ms:.1f}"
        # Server-Timing is a list header: keep any entry an inner layer already added.
        existing = response.headers.get("Server-Timing")
        response.headers["Server-Timing"] = f"{existing}, {entry}" if existing else entry
        return response
