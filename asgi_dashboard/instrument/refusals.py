"""The view of a request the view never saw, and the middleware that answered it.

A POST without a CSRF token is answered 403 by ``CsrfViewMiddleware.process_view``; a login
middleware may redirect from its ``__call__`` before Django resolves the URL. Either way the
request still has a view (the URL resolves), and the user wants to see it, with who answered.

How (``django/core/handlers/base.py``, Django 5.2):

* **The match.** ``BaseHandler.resolve_request`` is where Django resolves the URL (with the
  request's ``urlconf``) for the view it is about to call: we record the ``ResolverMatch`` it
  returns, so view, route and URL name are attached before ``process_view`` runs. A
  ``Resolver404`` passes through: a real 404 has no view.
* **Who answered.** ``load_middleware`` builds the chain once per handler: each middleware
  instance sits in a ``convert_exception_to_response`` closure (``inner``, free variable
  ``get_response``), possibly behind ``sync_to_async``/``async_to_sync`` adapters, and each
  ``process_view`` is an entry of ``handler._view_middleware``. The first time a handler serves
  a recorded request we replace each ``inner``'s ``get_response`` cell with a plain function that
  notes the middleware's name on the record and returns the middleware's own result (no extra
  coroutine frame; the ``inner`` awaits it as before), and each ``process_view`` entry likewise.
  The innermost middleware entered is the one that answered when Django never reached
  ``resolve_request``; the last ``process_view`` called is the one that answered when Django
  resolved but never dispatched the view (``make_view_atomic`` not called).
* **Resolving ourselves.** Only when a middleware answered in ``__call__`` (rare, and after the
  response was sent): :func:`settle` resolves ``request.path_info`` with the request's urlconf,
  as ``resolve_request`` would have.

Normal requests pay one ``ContextVar.get`` and an attribute store per middleware layer and per
``process_view``. Measured (timeit minima, 2 cores at load ~9): ~0.1 us per layer and per
``process_view``, ~0.3 us to record the match (a cached name), ~0.2-0.6 us for the
``get_response_async`` wrapper, less ~0.6 us no longer spent naming the view in
``make_view_atomic``: about +1 us per request on the demo's 8 middleware. Bench figure 1b
before/after (80 blocks each) differed by less than its own noise (~±150 us per request).
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable
from typing import Any

from asgiref.sync import AsyncToSync, SyncToAsync

from .naming import view_kind, view_label
from .records import RequestRecord, current

#: Marker attribute on a handler: the ``_middleware_chain`` we instrumented.
_MARK = "_asgi_dash_chain"
_inner_codes: frozenset[Any] = frozenset()


def _dotted(obj: Any) -> str:
    """``module.Class`` of a middleware instance; for a function middleware, its factory
    (``module.factory``, as written in ``settings.MIDDLEWARE``)."""
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        qualname = obj.__qualname__.split(".<locals>")[0]
        return f"{obj.__module__}.{qualname}"
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _unadapt(h: Any) -> Any:
    """The callable behind Django's ``sync_to_async``/``async_to_sync`` adapters."""
    while True:
        if isinstance(h, SyncToAsync):
            h = h.func
        elif isinstance(h, AsyncToSync):
            h = h.awaitable
        else:
            return h


def _get_response_cell(func: Any) -> Any:
    code = getattr(func, "__code__", None)
    if code is None or not func.__closure__ or "get_response" not in code.co_freevars:
        return None
    return func.__closure__[code.co_freevars.index("get_response")]


def _entered(middleware: Callable[..., Any], name: str) -> Callable[..., Any]:
    def entered(request: Any) -> Any:
        rec = current.get()
        if rec is not None:
            rec.middleware = name
        return middleware(request)

    return entered


_ENTERED_CODE = _entered(print, "").__code__


def _view_hook(process_view: Callable[..., Any], name: str) -> Callable[..., Any]:
    def view_hook(request: Any, callback: Any, args: Any, kwargs: Any) -> Any:
        rec = current.get()
        if rec is not None:
            rec.view_middleware = name
        return process_view(request, callback, args, kwargs)

    return view_hook


def _track_middleware(handler: Any) -> None:
    """Name every layer of ``handler``'s middleware chain (once per chain; best effort).

    If a layer does not show its next one (not ``self.get_response``, nor a ``get_response``
    closure variable), the walk stops there and that layer's name says a deeper one may have
    answered instead: never a confident wrong name.
    """
    chain = handler._middleware_chain
    setattr(handler, _MARK, chain)
    layers: list[tuple[Any, Any]] = []  # (the inner's get_response cell, the middleware)
    complete = False
    h = chain
    while len(layers) < 200:  # a chain is as long as settings.MIDDLEWARE; never loop forever
        inner = _unadapt(h)
        if getattr(inner, "__code__", None) not in _inner_codes:
            break
        cell = _get_response_cell(inner)
        target = cell.cell_contents if cell is not None else None
        if target is None:
            break
        if getattr(target, "__self__", None) is handler:
            complete = True  # the handler's own _get_response(_async): the end of the chain
            break
        if getattr(target, "__code__", None) is _ENTERED_CODE:
            return  # already ours (a handler instrumented twice)
        layers.append((cell, target))
        h = getattr(target, "get_response", None)
        if h is None:
            nxt = _get_response_cell(target)  # a function middleware: a closure
            h = nxt.cell_contents if nxt is not None else None
        if h is None:
            break
    for i, (cell, target) in enumerate(layers):
        name = _dotted(target)
        if not complete and i == len(layers) - 1:
            name += " (or a middleware after it)"
        cell.cell_contents = _entered(target, name)
    views = handler._view_middleware or []
    hooked = []
    for entry in views:
        owner = getattr(_unadapt(entry), "__self__", None)
        hooked.append(_view_hook(entry, _dotted(owner) if owner is not None else _dotted(entry)))
    handler._view_middleware = hooked


def _attach(rec: RequestRecord, match: Any) -> None:
    rec.match = match
    rec.route = match.route
    rec.url_name = match.url_name
    rec.view = view_label(match, rec.method)


def settle(rec: RequestRecord) -> None:
    """After a request whose view never ran: its view, kind, and the middleware that answered.

    Called by the tap only when ``rec.request`` is set (Django's handler saw the request) and
    no view was dispatched (``rec.kind`` is None).
    """
    if rec.reached_handler:
        if rec.match is not None:  # resolved, then a process_view answered (or raised)
            rec.answered_by = rec.view_middleware
            rec.kind = view_kind(rec.match.func)
        return  # not resolved: a real 404
    rec.answered_by = rec.middleware
    request = rec.request
    try:
        from django.urls import Resolver404, get_resolver

        match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
    except Resolver404:
        return
    except Exception:  # a broken URLconf: the request itself has said what went wrong
        return
    _attach(rec, match)
    rec.kind = view_kind(match.func)


def install() -> None:
    """Patch ``BaseHandler.resolve_request`` and ``get_response_async`` (once per process)."""
    global _inner_codes
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.exception import convert_exception_to_response

    async def _async(request: Any) -> Any: ...

    def _sync(request: Any) -> Any: ...

    _inner_codes = frozenset(convert_exception_to_response(f).__code__ for f in (_async, _sync))

    original_resolve = BaseHandler.resolve_request

    @functools.wraps(original_resolve)
    def resolve_request(self: Any, request: Any) -> Any:
        rec = current.get()
        if rec is None:
            return original_resolve(self, request)
        rec.reached_handler = True
        match = original_resolve(self, request)  # Resolver404 propagates: a real 404
        _attach(rec, match)
        return match

    original_get_response = BaseHandler.get_response_async

    # A plain function returning the original coroutine (callers only await it): no extra
    # coroutine frame per request.
    @functools.wraps(original_get_response)
    def get_response_async(self: Any, request: Any) -> Any:
        rec = current.get()
        if rec is not None:
            rec.request = request
            if getattr(self, _MARK, None) is not self._middleware_chain:
                # Naming who answered is best effort: it must never fail the request.
                with contextlib.suppress(Exception):
                    _track_middleware(self)
        return original_get_response(self, request)

    BaseHandler.resolve_request = resolve_request
    BaseHandler.get_response_async = get_response_async
