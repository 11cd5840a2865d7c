"""The thread-hop timeline: every ``sync_to_async`` call of a request, what caused it, the thread
that ran it, how long it waited for that thread and how long it ran.

Two seams, both in ``asgiref/sync.py`` (asgiref 3.x):

* ``SyncToAsync.__call__`` (on the event loop): the one wrapper of it is in
  ``hooks._patch_thread_hops`` (it counts ``sync_hops``) and calls :func:`called`, which notes the
  submit time and what is being run in a :class:`HopRecord` appended to the request's record.
* ``SyncToAsync.thread_handler`` (on the executor thread, the entry of every hop): patched here to
  run the callable through :func:`_run_timed`, which, inside the caller's context that asgiref
  copied (so ``records.current`` is the request), finds the hop of that callable and stamps the
  start, the end and the thread's name.

wait = start - submit: the queue behind the executor (the thread-sensitive one is a single thread
shared by every request: one slow sync view delays the others) plus the hop itself. The loop's
resumption after the run is not counted in either. ``RequestFinished.thread_wait_ns`` (the view's
wait, measured since ``make_view_atomic`` returned, see hooks.py) is never less than the view
hop's ``wait_ns``: it starts a little earlier (before Django calls ``sync_to_async``) and ends a
little later (when the view wrapper starts, inside the hop's run).

What caused a hop (``Hop.cause_kind``), from the callable given to ``sync_to_async``:

* ``view``: the sync view wrapper hooks.py returns from ``make_view_atomic`` (Django's
  ``_get_response_async`` wraps it in ``sync_to_async(thread_sensitive=True)``);
* ``middleware``: a sync-only middleware Django adapted in ``BaseHandler.adapt_method_mode``: the
  ``convert_exception_to_response`` wrapper around the middleware instance, or its
  ``process_view``/``process_template_response`` bound method;
* ``signal``: ``Signal.asend``'s ``sync_send`` (Django runs all sync receivers of
  ``request_started``/``request_finished`` behind one ``sync_to_async``);
* ``project``: anything else called from the project's own code within a few frames (its own
  ``sync_to_async``, or the async ORM's ``aget`` & co): the line that called it is ``source``;
* ``other``: the rest (``HttpResponse.close``, ``TemplateResponse.render``...), named by the
  callable's qualified name.

Django's ``ASGIHandler`` enters a ``ThreadSensitiveContext`` per request
(``django/core/handlers/asgi.py``): the thread-sensitive executor is one thread *per request*,
shared by that request's sync middleware, sync view, signal receivers and thread-sensitive
``sync_to_async`` calls; two requests do not queue behind each other there. Waits come from calls
of one request that overlap (``asyncio.gather`` of two ``sync_to_async``: the second waits for the
first's run), from the loop's default executor (``thread_sensitive=False``, a bounded pool shared
by every request) and from code outside Django's handler (the process-wide single thread).

Cost: the call side classifies with a few attribute reads (the project walk only for callables
that are none of Django's); names are made when the event is built.
"""

from __future__ import annotations

import functools
import sys
import time
from threading import _active as _threads  # type: ignore[attr-defined]
from threading import get_ident
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from ..events import FrameInfo, Hop, HopCause
from .records import RequestRecord, current
from .sql import _frame_info, _mine, _project_files

#: Hops kept per request (``sync_hops`` stays exact beyond it).
MAX_HOPS = 64
#: Frames above the ``sync_to_async`` call searched for a project line.
_PROJECT_DEPTH = 8
_INNER = "convert_exception_to_response.<locals>.inner"

#: Off: no timeline (``sync_hops`` is still counted); figure 1b of bench/ measures the timeline's
#: cost by turning it off and on in alternating blocks.
enabled = True
#: Hops (the request's latest) searched for the one a thread starts running.
_SCAN = 4
#: The code of hooks.py's sync view wrapper (set by :func:`install`).
_view_code: Any = None
_names: dict[Any, str] = {}
_CACHE_LIMIT = 4096


#: One hop while it happens: [func, kind, source, submitted, started, ended, thread] (a list:
#: built per hop, measured cheaper than a slotted class); stamps are perf_counter_ns, 0 = not yet.
HopRecord = list[Any]
_FUNC, _KIND, _SOURCE, _SUBMITTED, _STARTED, _ENDED, _THREAD = range(7)

#: co_qualname of Django's callables whose hops are not the project's: see the module docstring.
_DJANGO_CODE: dict[str, HopCause] = {
    _INNER: "middleware",
    "Signal.asend.<locals>.sync_send": "signal",
    "Signal.asend_robust.<locals>.sync_send": "signal",
}


def _quick_kind(func: Any) -> HopCause | None:
    """The cause of a hop when it is one of Django's own (view, middleware, signal), else None."""
    kind = type(func)
    if kind is MethodType:
        return "middleware" if func.__name__[:8] == "process_" else None
    if kind is FunctionType:
        code = func.__code__
        return "view" if code is _view_code else _DJANGO_CODE.get(code.co_qualname)
    return None


def _project_source(skip: int) -> FrameInfo | None:
    """The innermost project frame among the few above the ``sync_to_async`` call, if any."""
    files = _project_files
    frame: Any = sys._getframe(skip)
    for _ in range(_PROJECT_DEPTH):
        if frame is None:
            return None
        code = frame.f_code
        mine = files.get(code.co_filename)
        if mine is None:
            mine = _mine(code.co_filename)
        if mine:
            return _frame_info(code.co_filename, frame.f_lineno, code.co_name)
        frame = frame.f_back
    return None


def called(rec: RequestRecord, func: Any) -> None:
    """A ``sync_to_async(func)`` call of the request ``rec``, on the loop (hooks.py calls it from
    its ``SyncToAsync.__call__`` wrapper, which is the caller's direct callee)."""
    if len(rec.hops) >= MAX_HOPS or not enabled:
        return
    kind = _quick_kind(func)
    source = None
    if kind is None:
        # skip=3: this function, hooks' __call__ wrapper, then the caller of sync_to_async.
        source = _project_source(3)
        kind = "other" if source is None else "project"
    rec.hops.append([func, kind, source, time.perf_counter_ns(), 0, 0, None])


def _run_timed(child: functools.partial[Any]) -> Any:
    """Run the hop's callable on the executor thread, inside its copied context.

    The hop is the earliest not yet started one of this callable among the request's last few
    (``child`` is ``partial(self.func, ...)``, asgiref's ``SyncToAsync.__call__``): so two calls
    submitted together (``asyncio.gather``) each get their own, in the executor's FIFO order.
    """
    __traceback_hide__ = True
    rec = current.get()
    if rec is None:
        return child()
    func = child.func
    hops = rec.hops
    hop = None
    index = len(hops) - 1
    stop = max(index - _SCAN, -1)
    while index > stop:
        candidate = hops[index]
        if candidate[_FUNC] is func and not candidate[_STARTED]:
            hop = candidate
        index -= 1
    if hop is None:
        return child()
    hop[_THREAD] = _threads.get(get_ident())  # the Thread: its name is read for the event
    hop[_STARTED] = time.perf_counter_ns()
    try:
        return child()
    finally:
        hop[_ENDED] = time.perf_counter_ns()


def _patch_thread_handler() -> None:
    from asgiref.sync import SyncToAsync

    original: Any = SyncToAsync.thread_handler
    if hasattr(original, "__asgi_dash_hops__"):
        return

    @functools.wraps(original)
    def thread_handler(
        self: Any, loop: Any, exc_info: Any, task_context: Any, func: Any, *args: Any
    ) -> Any:
        __traceback_hide__ = True
        if len(args) == 1 and enabled:  # (child,): asgiref's own call (SyncToAsync.__call__)
            args = (functools.partial(_run_timed, args[0]),)
        return original(self, loop, exc_info, task_context, func, *args)

    thread_handler.__asgi_dash_hops__ = True  # type: ignore[attr-defined]
    SyncToAsync.thread_handler = thread_handler  # type: ignore[method-assign]


def install(view_code: Any) -> None:
    """Patch the thread side once; ``view_code`` is the code of hooks.py's sync view wrapper."""
    global _view_code
    _view_code = view_code
    _patch_thread_handler()


# -- names, when the event is built ------------------------------------------------------------


def _dotted(obj: Any) -> str:
    while isinstance(obj, functools.partial):
        obj = obj.func
    module = getattr(obj, "__module__", None) or type(obj).__module__
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qualname}"


def _name_and_key(func: Any, kind: HopCause) -> tuple[str | None, Any]:
    """The cache key of a callable's name (never a per-request object: a bound method is keyed
    by its class and function, a plain function by its code), and the name when no key fits."""
    if type(func) is MethodType:  # process_view, HttpResponse.close, ...
        return None, (type(func.__self__), func.__func__)
    if type(func) is FunctionType:
        # convert_exception_to_response's inner shares its code with every middleware's.
        return None, (func if kind == "middleware" else func.__code__)
    if isinstance(func, functools.partial):
        return _dotted(func), None
    if type(func) is BuiltinFunctionType:  # len, or a C method bound to a request's object
        return None, ("builtin", getattr(func, "__module__", None), func.__qualname__)
    if isinstance(func, type):
        return None, func
    return None, type(func)  # a callable instance


def _name(func: Any, kind: HopCause) -> str:
    if type(func) is MethodType:
        return f"{_dotted(type(func.__self__))}.{func.__name__}"
    if kind == "middleware":  # convert_exception_to_response's inner: the middleware inside
        target = getattr(func, "__wrapped__", func)
        if type(target) is FunctionType:  # a function-based middleware's closure
            return _dotted(target)
        return _dotted(type(target))  # a middleware instance
    if type(func) is FunctionType or type(func) is BuiltinFunctionType or isinstance(func, type):
        return _dotted(func)
    return _dotted(type(func))  # a callable instance: its class


def _signal_name(func: Any) -> str:
    """``<signal>: <receivers>`` from ``Signal.asend``'s ``sync_send`` closure (its ``self`` and
    ``sync_receivers`` cells, django/dispatch/dispatcher.py)."""
    try:
        cells = dict(zip(func.__code__.co_freevars, func.__closure__, strict=True))
        signal = cells["self"].cell_contents
        receivers = tuple(cells["sync_receivers"].cell_contents)
    except (AttributeError, KeyError, TypeError, ValueError):  # another asgiref/Django shape
        return "signal"
    key = (signal, receivers)
    name = _names.get(key)
    if name is None:
        from django.core import signals

        label = "signal"
        for attr in ("request_started", "request_finished", "got_request_exception"):
            if getattr(signals, attr, None) is signal:
                label = attr
        names = ", ".join(getattr(r, "__name__", type(r).__name__) for r in receivers)
        name = _names[key] = f"{label}: {names}" if names else label
    return name


def _cause(hop: HopRecord, rec: RequestRecord) -> str:
    func, kind = hop[_FUNC], hop[_KIND]
    if kind == "view":
        return rec.view or "view"
    if kind == "signal":
        return _signal_name(func)
    name, key = _name_and_key(func, kind)
    if name is not None:
        return name
    name = _names.get(key)
    if name is None:
        if len(_names) > _CACHE_LIMIT:
            _names.clear()
        name = _names[key] = _name(func, kind)
    return name


def hop_events(rec: RequestRecord) -> tuple[Hop, ...]:
    """The request's timeline as event values (offsets from the request's start)."""
    base = rec.start_ns
    out = []
    for hop in rec.hops:
        submitted, started, thread = hop[_SUBMITTED], hop[_STARTED], hop[_THREAD]
        out.append(
            Hop(
                _cause(hop, rec),
                hop[_KIND],
                submitted - base,
                started - base if started else 0,
                started - submitted if started else 0,
                hop[_ENDED] - started if started and hop[_ENDED] else 0,
                thread.name if thread is not None else "",
                hop[_SOURCE],
            )
        )
    return tuple(out)


__all__ = ["MAX_HOPS", "HopRecord", "called", "hop_events", "install"]
