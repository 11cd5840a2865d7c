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
dictionary look-ups. Both are computed only for statements that are kept (the first
``MAX_SQL_STATEMENTS`` of a request); beyond that, statements are only counted and timed.

Outside a request the tap records (``records.current`` is None) every hook here is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..events import FrameInfo
from .errors import _LIBRARY_ROOTS, frame_info, is_project_file
from .records import RequestRecord, current

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


# -- parameters ------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return f"#{hash(text) & 0xFFFFFFFF:08x}"


def _param_text(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the query
        text = f"<{type(value).__name__}: repr failed: {type(exc).__name__}>"
    if len(text) > MAX_PARAM_CHARS:
        # The digest of the whole repr keeps two long values that share a prefix apart.
        text = text[: MAX_PARAM_CHARS - 10] + "…" + _digest(text)
    return text


def param_texts(params: Any, many: bool = False) -> tuple[str, ...]:
    """The statement's parameters as bounded ``repr`` strings, in order.

    ``params`` is what the code passed to ``execute``: a sequence, a mapping (``%(name)s``
    style, kept as ``name=repr``) or None. For ``executemany`` (``many``) each entry is one
    row's parameters; an iterator is never consumed (it is the driver's to read), and is shown
    as ``<iterator>``.
    """
    if params is None:
        return ()
    if many and not isinstance(params, list | tuple):
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
        items.append(f"… {extra} more {_digest(repr(rest))}")
    return tuple(items)


def _bounded(rec: RequestRecord, texts: tuple[str, ...]) -> tuple[str, ...]:
    size = sum(map(len, texts))
    if rec.sql_param_chars + size > MAX_REQUEST_PARAM_CHARS:
        return (f"<{len(texts)} parameters not kept {_digest(repr(texts))}>",)
    rec.sql_param_chars += size
    return texts


# -- the issuing line ------------------------------------------------------------------------


def _is_project_file(filename: str) -> bool:
    # Not the stdlib or site-packages even when those live inside the project's folder (a
    # virtualenv in ./.venv is common), and not asgi-dash itself.
    if not is_project_file(filename, _project_dir):
        return False
    real = os.path.realpath(filename)
    return not any(real.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def issuing_frame() -> FrameInfo | None:
    """The innermost frame of the calling stack in the project's own code, if any."""
    files = _project_files
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        mine = files.get(filename)
        if mine is None:
            if len(files) > _CACHE_LIMIT:
                files.clear()
            mine = files[filename] = _is_project_file(filename)
        if mine:
            key = (filename, frame.f_lineno, code.co_name)
            info = _frames.get(key)
            if info is None:
                if len(_frames) > _CACHE_LIMIT:
                    _frames.clear()
                info = _frames[key] = frame_info(*key)
            return info
        frame = frame.f_back  # type: ignore[assignment]
    return None


# -- the two seams ---------------------------------------------------------------------------


def _record(rec: RequestRecord, sql: str, took: int, many: bool, params: Any) -> None:
    if rec.keeps_sql():
        rec.add_sql(sql, took, many, _bounded(rec, param_texts(params, many)), issuing_frame())
    else:
        rec.add_sql(sql, took, many)


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


def _attach(sender: Any, connection: Any, **kwargs: Any) -> None:
    if execute_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(execute_wrapper)


def _patch_transactions() -> None:
    from django.db.backends import utils

    original = utils.debug_transaction
    if hasattr(original, "__wrapped_by_asgi_dash__"):
        return
    timed = _timed_transaction(original)
    utils.debug_transaction = timed
    # ``from django.db.backends.utils import debug_transaction`` bound the original by name in
    # the backends loaded so far (base/base.py always; oracle/base.py, third-party backends).
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if namespace is not None and namespace.get("debug_transaction") is original:
            module.debug_transaction = timed


def install(project_dir: str | None = None) -> None:
    """Install both seams once per process; ``project_dir`` decides what is the project's code."""
    global _project_dir
    if project_dir != _project_dir:
        _project_dir = project_dir
        _project_files.clear()
        _frames.clear()
    from django.db import connections
    from django.db.backends.signals import connection_created

    _patch_transactions()
    connection_created.connect(_attach, dispatch_uid="asgi-dash-sql")
    # Connections opened before install (e.g. by the project's asgi.py) get it too.
    for conn in connections.all(initialized_only=True):
        _attach(None, conn)


__all__ = ["execute_wrapper", "install", "issuing_frame", "param_texts"]
