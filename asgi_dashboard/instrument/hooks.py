"""Patches on Django's (and Channels') seams that give exact per-request facts.

Each patch is a no-op outside a request the tap is recording (``records.current`` is None), so
code paths Django runs at start-up or in management commands are untouched.

How each number is measured (all ``time.perf_counter_ns()``):

* **view_ns / kind**: ``BaseHandler.make_view_atomic`` is the last call before Django dispatches
  the view (``django/core/handlers/base.py``, ``_get_response_async``): it returns the callable
  that Django then awaits directly (async) or wraps in ``sync_to_async(thread_sensitive=True)``
  (sync). We wrap that returned callable with a wrapper *of the same kind*, so Django's
  ``iscoroutinefunction`` check takes the same branch and a sync view still runs in its thread
  (and inside ``transaction.atomic`` for ``ATOMIC_REQUESTS``). The wrapper times the view call
  alone: middleware, ``process_view`` and the thread hop are outside it. ``kind`` is
  ``asgiref.sync.iscoroutinefunction`` of that callable: exactly the test Django makes.
* **view / route / url_name** come from the ``ResolverMatch`` Django returns in
  ``BaseHandler.resolve_request`` (see ``instrument/refusals.py``), so a request a middleware
  refused before the view ran (a CSRF 403) keeps them, with ``answered_by``; names follow
  ``instrument/naming.py``.
* **thread_wait_ns** (sync views): from the moment ``make_view_atomic`` returned (Django calls
  ``sync_to_async`` right after) until the wrapper starts running on the executor thread: the
  queueing behind the thread-sensitive executor plus the hop itself.
* **template_ns** / **template_in_view_ns**: time inside
  ``django.template.backends.django.Template.render`` (the
  top-level render of ``render()``, ``render_to_string`` and ``TemplateResponse``; nested
  ``{% include %}`` renders are inside it and not counted twice); the part rendered while the
  view wrapper was running is also kept apart, so the UI can tell ``render()`` (inside the view)
  from ``TemplateResponse`` (rendered by the handler after the view returned).
* **sql_count / sql_ns / sql**: see ``instrument/sql.py``: the statements Django itself records
  (``connection.queries``, ``CaptureQueriesContext``), cursor statements through
  ``connection.execute_wrappers`` and ``COMMIT``/``ROLLBACK``/``BEGIN`` through Django's own
  ``debug_transaction``, each with its time, bounded parameters and the issuing project line.
* **sync_hops**: calls of ``asgiref.sync.SyncToAsync`` made on behalf of the request (the view,
  sync middleware adapted by Django, sync signal receivers such as ``close_old_connections``):
  each one is a hop from the event loop to a thread and back. The same wrapper feeds the
  timeline of those hops (``hops``: cause, thread, wait, run), see ``instrument/hops.py``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync, iscoroutinefunction

from . import hops, layer_backends, refusals, sql
from .errors import exception_info
from .handlers import timed_dispatch
from .naming import view_kind, view_name
from .records import ConnectionRecord, RequestRecord, current, current_connection
from .users import user_name

_installed = False
_project_dir: str | None = None

#: Exceptions that are Django control flow (a 404, a 403), not errors in the view.
_CONTROL_FLOW = ("Http404", "PermissionDenied", "Resolver404")


def _record_error(rec: RequestRecord, exc: BaseException) -> None:
    if type(exc).__name__ not in _CONTROL_FLOW and rec.error is None:
        rec.error = exception_info(exc, _project_dir)


def _identify(rec: RequestRecord, request: Any) -> None:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        rec.route = match.route
        rec.url_name = match.url_name


def _timed_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """A wrapper of the same kind as ``view`` that times the call alone."""
    if iscoroutinefunction(view):

        async def timed_async(request: Any, *args: Any, **kwargs: Any) -> Any:
            rec = current.get()
            if rec is None:
                return await view(request, *args, **kwargs)
            if rec.match is None:
                _identify(rec, request)
            start = time.perf_counter_ns()
            rec.in_view = True
            try:
                return await view(request, *args, **kwargs)
            except BaseException as exc:
                _record_error(rec, exc)
                raise
            finally:
                rec.in_view = False
                rec.view_ns = time.perf_counter_ns() - start

        return timed_async

    def timed_sync(request: Any, *args: Any, **kwargs: Any) -> Any:
        rec = current.get()
        if rec is None:
            return view(request, *args, **kwargs)
        start = time.perf_counter_ns()
        if rec.dispatch_ns:
            rec.thread_wait_ns = start - rec.dispatch_ns
        if rec.match is None:
            _identify(rec, request)
        rec.in_view = True
        try:
            return view(request, *args, **kwargs)
        except BaseException as exc:
            _record_error(rec, exc)
            raise
        finally:
            rec.in_view = False
            rec.view_ns = time.perf_counter_ns() - start

    return timed_sync


def _identity(request: Any) -> Any:
    return request


def _patch_view_dispatch() -> None:
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.make_view_atomic

    @functools.wraps(original)
    def make_view_atomic(self: Any, view: Callable[..., Any]) -> Callable[..., Any]:
        rec = current.get()
        if rec is not None:
            # Every process_view let the request through: none of them answered it, even if
            # Django fails below (an async view with ATOMIC_REQUESTS raises here).
            rec.view_middleware = None
        wrapped: Callable[..., Any] = original(self, view)
        if rec is None:
            return wrapped
        if rec.match is None:  # refusals.resolve_request did not see Django resolve it
            rec.view = view_name(view, rec.method)
        timed = _timed_view(wrapped)
        rec.kind = view_kind(timed)
        rec.dispatch_ns = time.perf_counter_ns()
        return timed

    BaseHandler.make_view_atomic = make_view_atomic


def _patch_templates() -> None:
    from django.template.backends.django import Template

    original = Template.render

    @functools.wraps(original)
    def render(self: Any, context: Any = None, request: Any = None) -> Any:
        rec = current.get()
        if rec is None or rec.template_depth:
            return original(self, context, request)
        rec.template_depth += 1
        start = time.perf_counter_ns()
        try:
            return original(self, context, request)
        finally:
            rec.template_depth -= 1
            took = time.perf_counter_ns() - start
            rec.template_ns += took
            if rec.in_view:
                rec.template_in_view_ns += took

    Template.render = render


def _patch_thread_hops() -> None:
    original: Any = SyncToAsync.__call__

    # A plain function that returns the original coroutine: no extra coroutine frame per hop
    # (a request makes ~15 of them). Callers only await the result, and asgiref marks the
    # SyncToAsync *instance* as a coroutine function, so nothing checks this attribute's kind.
    @functools.wraps(original)
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = current.get()
        if rec is not None:
            rec.sync_hops += 1
            hops.called(rec, self.func)  # the timeline (instrument/hops.py)
        return original(self, *args, **kwargs)

    SyncToAsync.__call__ = __call__  # type: ignore[method-assign]


def _patch_consumers() -> None:
    try:
        from channels.consumer import AsyncConsumer
    except ImportError:  # a project without Channels
        return
    original = AsyncConsumer.__call__

    @functools.wraps(original)
    async def __call__(self: Any, scope: Any, receive: Any, send: Any) -> Any:
        # Channels' URLRouter does not record which consumer matched; the instance knows.
        conn = current_connection.get()
        if conn is not None and conn.consumer is None:
            cls = type(self)
            conn.consumer = f"{cls.__module__}.{cls.__qualname__}"
            kwargs = (scope.get("url_route") or {}).get("kwargs") or {}
            conn.url_kwargs = tuple((str(k), str(v)) for k, v in kwargs.items())
            conn.user = user_name(scope.get("user"))  # instrument/users.py: never loads it
        # Each handled message is timed with its SQL (instrument/handlers.py); the instance's
        # dispatch is what await_many_dispatch calls (channels/consumer.py).
        self.dispatch = timed_dispatch(self, self.dispatch, conn, _project_dir)
        return await original(self, scope, receive, send)

    AsyncConsumer.__call__ = __call__


def install(project_dir: str | None = None) -> None:
    """Install every hook once per process (after ``django.setup()``)."""
    global _installed, _project_dir
    _project_dir = project_dir
    sql.install(project_dir)  # SQL truth: instrument/sql.py (idempotent)
    if _installed:
        return
    _installed = True
    _patch_view_dispatch()
    refusals.install()
    _patch_templates()
    _patch_thread_hops()
    hops.install(_timed_view(_identity).__code__)  # the code of the sync view wrapper
    _patch_consumers()
    layer_backends.install()  # the channel layer's operations and drops (instrument/layer.py)


__all__ = ["ConnectionRecord", "RequestRecord", "install"]
