"""SQL truth: every statement Django records for a request, with its time, parameters and the
project line that issued it.

Django records two kinds of statements (``connection.queries``, ``CaptureQueriesContext``, the
``django.db.backends`` logger), and so do we, at the same two seams:

* **Cursor statements** go through ``CursorWrapper._execute_with_wrappers``
  (``django/db/backends/utils.py``), which calls every ``connection.execute_wrappers`` entry:
  one call per ``execute``/``executemany``, exactly the calls ``CursorDebugWrapper.debug_sql``
  records. Our wrapper is added to each connection when it is created (``connection_created``).
  On SQLite this includes ``BEGIN`` (``_start_transaction_under_autocommit`` executes it) and
  the ``SAVEPOINT``/``RELEASE SAVEPOINT``/``ROLLBACK TO SAVEPOINT`` of nested ``atomic`` blocks
  (``BaseDatabaseWrapper._savepoint*`` execute them on a cursor).
* **Transaction statements** that are not cursor statements: Django >= 4.2 issues ``COMMIT``,
  ``ROLLBACK`` (``BaseDatabaseWrapper._commit``/``_rollback``) and, on backends that start a
  transaction by turning autocommit off, ``BEGIN`` (``set_autocommit``) on the DB-API connection
  itself, inside ``django.db.backends.utils.debug_transaction(connection, sql)``, the context
  manager that records them. No execute wrapper sees them. We replace ``debug_transaction`` with
  a wrapper that times the same block, in ``django.db.backends.utils`` (for modules imported
  later) and in every loaded module that imported it by name (``base/base.py``, Oracle's and
  third-party backends' ``base.py``): the one function Django records them with, so the list is
  Django's on every backend, with the time each one took (a slow ``COMMIT`` is real information).

Parameters are kept as bounded ``repr`` strings (:func:`param_texts`): enough to tell *identical*
statements (same SQL, same values: a cache opportunity) from *similar* ones (same SQL, other
values: the N+1 pattern). The issuing line is the innermost frame in the project's code
(:func:`issuing_frame`): a walk up ``sys._getframe()`` that stops at the first project frame, with
the per-file decision and the per-line :class:`FrameInfo` cached, so a statement costs a few
dictionary look-ups per frame. A query the async ORM runs on a worker thread has no project frame
on that thread: its line is found down the request task's chain of awaiting coroutines. Both are
computed only for statements that are kept (the first ``MAX_SQL_STATEMENTS`` of a request);
beyond that, statements are only counted and timed.

Outside a request the tap records (``records.current`` is None) every hook here is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..events import FrameInfo, SqlQuery
from .errors import _LIBRARY_ROOTS, DEMO_ROOT, frame_info, is_project_file
from .records import MAX_SQL_STATEMENTS, MAX_SQL_TEXT, RequestRecord, SqlSite, current

#: Parameters kept per statement (the rest are summarised in one last entry).
MAX_PARAMS = 32
#: Characters of one parameter's ``repr`` (a longer one ends with ``…#<digest>``).
MAX_PARAM_CHARS = 120
#: Characters of parameter text kept per request; beyond it a statement's parameters are
#: replaced by one digest entry, still enough to tell identical from similar.
MAX_REQUEST_PARAM_CHARS = 32 * 1024
#: Bound of the caches below (cleared when passed: a long-running server with generated code).
_CACHE_LIMIT = 8192

_project_dir: str | None = None
#: filename -> whether it is the project's own code.
_project_files: dict[str, bool] = {}
#: (filename, lineno, function) -> FrameInfo (with its source line read once).
_frames: dict[tuple[str, int, str], FrameInfo] = {}
#: The code of ``SyncToAsync.thread_handler``: a worker thread's entry into sync code.
_thread_entry: Any = None


# -- parameters ------------------------------------------------------------------------------


def _digest(value: str | bytes) -> str:
    return f"#{hash(value) & 0xFFFFFFFF:08x}"


def _rest_digest(rest: Any) -> str:
    try:
        return f"#{hash(tuple(rest)) & 0xFFFFFFFF:08x}"
    except TypeError:  # unhashable values (lists, dicts): their repr then
        return _digest(repr(rest))


def _shorten(text: str) -> str:
    # The digest of the whole repr keeps two long values that share a prefix apart.
    return text[: MAX_PARAM_CHARS - 10] + "…" + _digest(text)


def _param_text(value: Any) -> str:
    if isinstance(value, str | bytes) and len(value) > MAX_PARAM_CHARS:
        # A large value (a file's bytes, a long text) is never repr'd whole: its head, and a
        # digest of all of it (``hash`` reads it once, no copy) so different values stay apart.
        return repr(value[:MAX_PARAM_CHARS])[: MAX_PARAM_CHARS - 10] + "…" + _digest(value)
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the query
        text = f"<{type(value).__name__}: repr failed: {type(exc).__name__}>"
    return text if len(text) <= MAX_PARAM_CHARS else _shorten(text)


def param_texts(params: Any, many: bool = False) -> tuple[str, ...]:
    """The statement's parameters as bounded ``repr`` strings, in order.

    ``params`` is what the code passed to ``execute``: a sequence, a mapping (``%(name)s``
    style, kept as ``name=repr``) or None. For ``executemany`` (``many``) each entry is one
    row's parameters; an iterator is never consumed (it is the driver's to read), and is shown
    as ``<iterator>``.
    """
    if params is None:
        return ()
    if type(params) is list or type(params) is tuple:
        if len(params) <= MAX_PARAMS:
            # The common case, in C: repr of a few ints and short strings (a long one is cut
            # after: checking each value's size first would cost more than it saves).
            try:
                texts = tuple(map(repr, params))
            except Exception:
                return tuple(map(_param_text, params))
            if max(map(len, texts), default=0) <= MAX_PARAM_CHARS:
                return texts
            return tuple(t if len(t) <= MAX_PARAM_CHARS else _shorten(t) for t in texts)
    elif many:
        return ("<iterator>",)
    if isinstance(params, dict):
        items: list[Any] = [f"{k}={_param_text(v)}" for k, v in list(params.items())[:MAX_PARAMS]]
        extra = len(params) - MAX_PARAMS
        rest: Any = list(params.items())[MAX_PARAMS:] if extra > 0 else ()
    else:
        try:
            count = len(params)
        except TypeError:
            return ("<iterator>",)
        items = [_param_text(v) for v in params[:MAX_PARAMS]]
        extra = count - MAX_PARAMS
        rest = params[MAX_PARAMS:] if extra > 0 else ()
    if extra > 0:
        # Two bulk statements that differ only after the kept parameters must not look
        # identical: the last entry carries a digest of the rest.
        items.append(f"… {extra} more {_rest_digest(rest)}")
    return tuple(items)


# -- the issuing line ------------------------------------------------------------------------


def _is_project_file(filename: str) -> bool:
    # Not the stdlib or site-packages even when those live inside the project's folder (a
    # virtualenv in ./.venv is common), and not asgi-dash itself.
    if not is_project_file(filename, _project_dir):
        return False
    real = os.path.realpath(filename)
    if real.startswith(DEMO_ROOT + os.sep):  # the bundled demo, even installed in site-packages
        return True
    return not any(real.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def _frame_info(filename: str, lineno: int, function: str) -> FrameInfo:
    key = (filename, lineno, function)
    info = _frames.get(key)
    if info is None:
        if len(_frames) > _CACHE_LIMIT:
            _frames.clear()
        info = _frames[key] = frame_info(filename, lineno, function)
    return info


def _mine(filename: str) -> bool:
    if len(_project_files) > _CACHE_LIMIT:
        _project_files.clear()
    mine = _project_files[filename] = _is_project_file(filename)
    return mine


def issuing_frame(task: Any = None, skip: int = 1) -> FrameInfo | None:
    """The innermost frame of the calling stack in the project's own code, if any (``skip``:
    frames of the caller's own to pass over, 1 = start at the caller).

    The walk stops at a worker thread's entry (``SyncToAsync.thread_handler``): above it is only
    the executor's plumbing. When no project frame was found and ``task`` (the request's
    asyncio task) is given, the innermost project frame down that task's chain of awaiting
    coroutines: a query that ``sync_to_async`` code (the async ORM's ``aget``, ``async for``,
    sync middleware) runs on a worker thread was awaited there.
    """
    found = _walk(skip + 1)
    if found is not None:
        return found[0]
    return _awaiting_frame(task) if task is not None else None


def _walk(skip: int) -> SqlSite | None:
    """The innermost project frame from ``sys._getframe(skip)`` up (see :func:`issuing_frame`),
    with its depth counted from this function's caller."""
    files = _project_files
    stop = _thread_entry
    frame: Any = sys._getframe(skip)
    depth = skip - 1
    while frame is not None:
        code = frame.f_code
        if code is stop:
            break
        mine = files.get(code.co_filename)
        if mine is None:
            mine = _mine(code.co_filename)
        if mine:
            lineno = frame.f_lineno
            return _frame_info(code.co_filename, lineno, code.co_name), depth, code, lineno
        frame = frame.f_back
        depth += 1
    return None


def _awaiting_frame(task: Any) -> FrameInfo | None:
    # The task is suspended while its worker thread runs the query: its coroutines' frames
    # stand at their ``await`` lines. Bounded, and tolerant of awaitables that are not
    # coroutines (a Future ends the chain).
    found = None
    try:
        awaitable = task.get_coro()
    except AttributeError:
        return None
    for _ in range(256):
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "gi_frame", None)
        if frame is None:
            break
        code = frame.f_code
        mine = _project_files.get(code.co_filename)
        if mine is None:
            mine = _mine(code.co_filename)
        if mine:
            found = (code.co_filename, frame.f_lineno, code.co_name)
        awaitable = getattr(awaitable, "cr_await", None) or getattr(awaitable, "gi_yieldfrom", None)
    return _frame_info(*found) if found else None


# -- the two seams ---------------------------------------------------------------------------


def _record(rec: RequestRecord, sql: str, took: int, many: bool, params: Any) -> None:
    if len(rec.sql) >= MAX_SQL_STATEMENTS:
        rec.add_sql(sql, took, many)  # counted and timed, not kept
        return
    # Inline fast path of param_texts: a short list or tuple (nearly every statement).
    if params is None:
        texts: tuple[str, ...] = ()
    elif (type(params) is list or type(params) is tuple) and len(params) <= MAX_PARAMS:
        try:
            texts = tuple(map(repr, params))
        except Exception:
            texts = param_texts(params, many)
    else:
        texts = param_texts(params, many)
    size = sum(map(len, texts))
    if size > MAX_PARAM_CHARS:  # then one of them may be too long
        texts = tuple(t if len(t) <= MAX_PARAM_CHARS else _shorten(t) for t in texts)
        size = sum(map(len, texts))
    if rec.sql_param_chars + size > MAX_REQUEST_PARAM_CHARS:
        texts = (f"<{len(texts)} parameters not kept {_digest(repr(texts))}>",)
    else:
        rec.sql_param_chars += size
    rec.sql_count += 1
    rec.sql_ns += took
    rec.sql.append(SqlQuery(sql[:MAX_SQL_TEXT], took, many, texts, _source(rec, sql)))


def _source(rec: RequestRecord, sql: str) -> FrameInfo | None:
    """The issuing line of the statement ``_record`` is recording (called by it only).

    A statement repeated in a loop (the N+1 case: the same SQL again and again) is issued by
    the same line: where this SQL's project frame was last time, one C-level ``sys._getframe``
    checks that the same code stands at the same line at the same depth, instead of a walk.
    """
    site = rec.sql_sites.get(sql)
    if site is not None:
        info, depth, code, lineno = site
        try:
            frame = sys._getframe(depth)
        except ValueError:
            frame = None
        if frame is not None and frame.f_code is code and frame.f_lineno == lineno:
            return info
    # skip=4: this function, _record, then the seam (execute_wrapper, or debug_transaction),
    # then Django's caller of the seam (_execute_with_wrappers, or contextmanager.__exit__).
    found = _walk(4)
    if found is None:
        return _awaiting_frame(rec.task) if rec.task is not None else None
    rec.sql_sites[sql] = found  # its depth is counted from this function, as above
    return found[0]


def execute_wrapper(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
) -> Any:
    """A ``connection.execute_wrappers`` entry: one call per cursor statement."""
    rec = current.get()
    if rec is None:
        return execute(sql, params, many, context)
    start = time.perf_counter_ns()
    try:
        return execute(sql, params, many, context)
    finally:
        _record(rec, sql, time.perf_counter_ns() - start, many, params)


def _timed_transaction(original: Callable[..., Any]) -> Callable[..., Any]:
    @contextlib.contextmanager
    def debug_transaction(connection: Any, sql: str) -> Iterator[None]:
        rec = current.get()
        with original(connection, sql):
            if rec is None:
                yield
                return
            start = time.perf_counter_ns()
            try:
                yield
            finally:
                _record(rec, sql, time.perf_counter_ns() - start, False, None)

    debug_transaction.__wrapped_by_asgi_dash__ = original  # type: ignore[attr-defined]
    return debug_transaction


def _patch_thread_hops() -> None:
    """Note which task awaits each ``sync_to_async`` call of a request (``RequestRecord.task``).

    A plain function returning the original's coroutine, as ``hooks._patch_thread_hops`` does:
    no extra coroutine frame per hop; the task is read on the loop's thread, at the call.
    """
    from asgiref.sync import SyncToAsync

    original: Any = SyncToAsync.__call__
    if hasattr(original, "__wrapped_by_asgi_dash_sql__"):
        return
    current_task = asyncio.current_task

    @functools.wraps(original)
    def __call__(self: Any, *args: Any, **kwargs: Any) -> Any:
        rec = current.get()
        if rec is not None:
            try:  # noqa: SIM105 (per hop: a try is cheaper than contextlib.suppress)
                rec.task = current_task()
            except RuntimeError:  # no running loop: asgiref itself will refuse the call
                pass
        return original(self, *args, **kwargs)

    __call__.__wrapped_by_asgi_dash_sql__ = True  # type: ignore[attr-defined]
    SyncToAsync.__call__ = __call__  # type: ignore[method-assign]


def _attach(sender: Any, connection: Any, **kwargs: Any) -> None:
    if execute_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(execute_wrapper)


def _patch_transactions() -> None:
    from django.db.backends import utils

    original = getattr(utils, "debug_transaction", None)
    if original is None or hasattr(original, "__wrapped_by_asgi_dash__"):
        return  # (Django < 4.2 recorded no transaction statements: neither do we)
    timed = _timed_transaction(original)
    utils.debug_transaction = timed
    # ``from django.db.backends.utils import debug_transaction`` bound the original by name in
    # the backends loaded so far (base/base.py always; oracle/base.py, third-party backends).
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if namespace is not None and namespace.get("debug_transaction") is original:
            setattr(module, "debug_transaction", timed)  # noqa: B010 (any module)


def install(project_dir: str | None = None) -> None:
    """Install both seams once per process; ``project_dir`` decides what is the project's code."""
    global _project_dir, _thread_entry
    from asgiref.sync import SyncToAsync

    _thread_entry = SyncToAsync.thread_handler.__code__
    if project_dir != _project_dir:
        _project_dir = project_dir
        _project_files.clear()
        _frames.clear()
    from django.db import connections
    from django.db.backends.signals import connection_created

    _patch_transactions()
    _patch_thread_hops()
    connection_created.connect(_attach, dispatch_uid="asgi-dash-sql")
    # Connections opened before install (e.g. by the project's asgi.py) get it too.
    for conn in connections.all(initialized_only=True):
        _attach(None, conn)


__all__ = ["execute_wrapper", "install", "issuing_frame", "param_texts"]
