"""Readable names for views: the rules shown in the request log and the per-view stats.

Rules, in order (``func`` is ``ResolverMatch.func``):

1. Class-based views (``View.as_view()``): the class, ``module.Class`` (not
   ``View.as_view.<locals>.view``), from ``func.view_class``.
2. DRF viewsets (``ViewSet.as_view({"get": "list"})``): ``module.Class.action`` for the request's
   method, from ``func.cls`` and ``func.actions``; ``module.Class`` if the method has no action.
3. Everything else (functions, bound methods such as ``AdminSite.index``, views decorated with
   ``functools.wraps``): ``func.__module__ + "." + func.__qualname__``. ``functools.partial``
   objects are unwrapped first.

We compute the name rather than read ``ResolverMatch._func_path``, which is private and names the
``as_view`` closure for DRF viewsets.
"""

from __future__ import annotations

import functools
from typing import Any

from asgiref.sync import iscoroutinefunction


def view_name(func: Any, method: str = "GET") -> str:
    """Dotted path of a resolved view, per the rules in the module docstring."""
    while isinstance(func, functools.partial):
        func = func.func
    cls = getattr(func, "cls", None)
    actions = getattr(func, "actions", None)
    if cls is not None and isinstance(actions, dict):
        base = f"{cls.__module__}.{cls.__qualname__}"
        action = actions.get(method.lower())
        return f"{base}.{action}" if action else base
    view_class = getattr(func, "view_class", None)
    if view_class is not None:
        return f"{view_class.__module__}.{view_class.__qualname__}"
    module = getattr(func, "__module__", None) or type(func).__module__
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}.{qualname}"


def view_kind(func: Any) -> str:
    """``"async"`` if Django will await the view, else ``"sync"``.

    ``asgiref.sync.iscoroutinefunction`` (the check Django's handler uses) also sees class-based
    views that ``as_view()`` marked with ``markcoroutinefunction``; ``inspect``'s does not on 3.11.
    """
    return "async" if iscoroutinefunction(func) else "sync"
