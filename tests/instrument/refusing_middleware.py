"""Middleware that answers before the view, in each way Django lets one (for test_refused).

Each answers only when the request carries ``X-Refuse: <its name>``, and passes it on otherwise,
so one chain holding all of them serves normal requests too.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.deprecation import MiddlewareMixin

#: A test puts an ``asyncio.Event`` here under "entered" to learn when a request hangs.
HANGING: dict[str, asyncio.Event] = {}


def _refuse(request, name: str) -> bool:
    return request.headers.get("X-Refuse") == name


class AsyncEarlyAnswer:
    """An async-capable middleware whose ``__call__`` answers without calling the next layer."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        if _refuse(request, "async-call"):
            return HttpResponse("refused in __call__", status=401)
        if _refuse(request, "hang"):  # until cancelled: a request nobody answered
            entered = HANGING.get("entered")
            if entered is not None:
                entered.set()
            await asyncio.Event().wait()
        return await self.get_response(request)


class SyncOnlyEarlyAnswer:
    """A sync-only middleware: Django puts ``sync_to_async``/``async_to_sync`` around it."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if _refuse(request, "sync-call"):
            return HttpResponse("refused in a sync __call__", status=429)
        return self.get_response(request)


class ProcessRequestAnswer(MiddlewareMixin):
    """Old-style: ``process_request`` returning a response (a login redirect, say)."""

    def process_request(self, request):
        if _refuse(request, "process-request"):
            return HttpResponse(status=302, headers={"Location": "/accounts/login/"})
        return None


class ProcessViewAnswer(MiddlewareMixin):
    """``process_view`` returning a response, as ``CsrfViewMiddleware`` does."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _refuse(request, "process-view"):
            return HttpResponse("refused in process_view", status=403)
        return None


class UrlconfSwitch(MiddlewareMixin):
    """Sets ``request.urlconf``, as a per-host URLconf middleware (django-hosts) does."""

    def process_request(self, request):
        if "X-Urlconf" in request.headers:
            request.urlconf = request.headers["X-Urlconf"]


@sync_and_async_middleware
def function_early_answer(get_response):
    """A function middleware factory (the closure is what Django calls)."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            if _refuse(request, "function"):
                return HttpResponse("refused by a function middleware", status=401)
            return await get_response(request)

        return markcoroutinefunction(middleware)

    def sync_middleware(request):
        if _refuse(request, "function"):
            return HttpResponse("refused by a function middleware", status=401)
        return get_response(request)

    return sync_middleware


class OpaqueChain:
    """Keeps the next layer under a name of its own: the chain cannot be followed past it."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.downstream = get_response
        markcoroutinefunction(self)

    async def __call__(self, request):
        return await self.downstream(request)
