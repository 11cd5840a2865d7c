"""Middleware that answers before the view, in each way Django lets one (for test_refused).

Each answers only when the request carries ``X-Refuse: <its name>``, and passes it on otherwise,
so one chain holding all of them serves normal requests too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.deprecation import MiddlewareMixin

#: A test puts an ``asyncio.Event`` here under "entered" to learn when a request hangs.
HANGING: dict[str, asyncio.Event] = {}

SyncGetResponse = Callable[[HttpRequest], HttpResponse]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponse]]


def _refuse(request: HttpRequest, name: str) -> bool:
    return bool(request.headers.get("X-Refuse") == name)


class AsyncEarlyAnswer:
    """An async-capable middleware whose ``__call__`` answers without calling the next layer."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: AsyncGetResponse) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
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

    def __init__(self, get_response: SyncGetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _refuse(request, "sync-call"):
            return HttpResponse("refused in a sync __call__", status=429)
        return self.get_response(request)


class ProcessRequestAnswer(MiddlewareMixin):  # type: ignore[misc]  # Django ships no types
    """Old-style: ``process_request`` returning a response (a login redirect, say)."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if _refuse(request, "process-request"):
            return HttpResponse(status=302, headers={"Location": "/accounts/login/"})
        return None


class ProcessViewAnswer(MiddlewareMixin):  # type: ignore[misc]
    """``process_view`` returning a response, as ``CsrfViewMiddleware`` does."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[object, ...],
        view_kwargs: dict[str, object],
    ) -> HttpResponse | None:
        if _refuse(request, "process-view"):
            return HttpResponse("refused in process_view", status=403)
        return None


class UrlconfSwitch(MiddlewareMixin):  # type: ignore[misc]
    """Sets ``request.urlconf``, as a per-host URLconf middleware (django-hosts) does."""

    def process_request(self, request: HttpRequest) -> None:
        if "X-Urlconf" in request.headers:
            request.urlconf = request.headers["X-Urlconf"]


@sync_and_async_middleware  # type: ignore[untyped-decorator]
def function_early_answer(
    get_response: Callable[[HttpRequest], object],
) -> Callable[[HttpRequest], object]:
    """A function middleware factory (the closure is what Django calls)."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            if _refuse(request, "function"):
                return HttpResponse("refused by a function middleware", status=401)
            return await get_response(request)

        return markcoroutinefunction(middleware)

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        if _refuse(request, "function"):
            return HttpResponse("refused by a function middleware", status=401)
        return get_response(request)

    return sync_middleware


class OpaqueChain:
    """Keeps the next layer under a name of its own: the chain cannot be followed past it."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: AsyncGetResponse) -> None:
        self.downstream = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        return await self.downstream(request)
