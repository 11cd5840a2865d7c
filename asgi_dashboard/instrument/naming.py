"""Readable names for views: the callable the user wrote, shown in the request log and the stats.

Rules, in order (``func`` is ``ResolverMatch.func``, ``method`` the request's HTTP method):

1. DRF viewsets (``ViewSet.as_view({"get": "list"})``): ``module.Class.action`` for the request's
   method, from ``func.cls`` and ``func.actions``; ``module.Class`` if the method has no action.
2. DRF ``@api_view`` functions: ``rest_framework.decorators.api_view`` builds a class named
   ``WrappedAPIView`` whose HTTP-method handlers are closures over the decorated function
   (``def handler(self, *args, **kwargs): return func(*args, **kwargs)``): the name is that
   function's, read from the handler's ``func`` cell.
3. Class-based views (``View.as_view()``): the class, ``module.Class`` (not
   ``View.as_view.<locals>.view``), from ``func.view_class``.
4. django-ninja: every path of a ``NinjaAPI`` is one ``PathView`` whose ``get_view()`` returns a
   closure over it (``sync_view_wrapper`` / ``async_view_wrapper`` in ``ninja/operation.py``);
   ``PathView.operations`` holds one ``Operation`` per decorated function, and the one that
   serves the request is the first whose ``methods`` contain the request's method (the same
   search as ``PathView._find_operation``). The name is that operation's ``view_func``.
5. Wagtail's admin page router (``PageViewSetRegistry.as_view.<locals>.view_router``): the view
   of the page viewset it dispatches to (e.g. ``wagtail.admin.views.pages.edit.EditView``) when
   the registry holds a single viewset, so the choice does not depend on the page (see
   :func:`_wagtail_page_view`).
6. Everything else (functions, bound methods such as ``AdminSite.index``, views decorated with
   ``functools.wraps``): ``func.__module__ + "." + func.__qualname__``. ``functools.partial``
   objects are unwrapped first.

A name that still contains ``<locals>`` (a closure a framework generated whose target is not
known before it runs: Wagtail's page router with custom page viewsets picks a view with a
database query) is never shown alone: :func:`view_label` appends the namespaced URL name (or the
route), as in ``….view_router (wagtailadmin_pages:edit)``; the URL name comes last because the
log shortens a view from the left.

We compute the name rather than read ``ResolverMatch._func_path``, which is private and names the
``as_view`` closure for DRF viewsets.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from asgiref.sync import iscoroutinefunction

from ..events import Kind

#: (func, method, namespaced URL name, route) -> label; bounded (URLconfs are finite anyway).
_labels: dict[tuple[Any, str, str | None, str | None], str] = {}
_MAX_LABELS = 4096


def _dotted(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qualname}"


def _cell(func: Any, name: str) -> Any:
    """The value of free variable ``name`` of a plain function, or None."""
    code = getattr(func, "__code__", None)
    closure = getattr(func, "__closure__", None)
    if code is None or not closure or name not in code.co_freevars:
        return None
    try:
        return closure[code.co_freevars.index(name)].cell_contents
    except ValueError:  # an empty cell
        return None


def _api_view_function(view_class: type, method: str) -> Any:
    """The function decorated with DRF's ``@api_view``, if ``view_class`` was built by it."""
    if view_class.__qualname__ != "WrappedAPIView":
        return None
    handler = view_class.__dict__.get(method.lower())
    if handler is None:  # e.g. OPTIONS: any handler closes over the same function
        methods: list[str] = getattr(view_class, "http_method_names", [])
        handler = next((h for m in methods if (h := view_class.__dict__.get(m))), None)
    return _cell(handler, "func") if handler is not None else None


def _is_path_view(obj: Any) -> bool:
    cls = type(obj)
    return cls.__name__ == "PathView" and cls.__module__.startswith("ninja")


def _ninja_operation_function(func: Any, method: str) -> Any:
    """The operation function a django-ninja ``PathView`` runs for ``method``, or None."""
    owner = getattr(func, "__self__", None)  # older ninja: a bound method of PathView
    path_view = owner if _is_path_view(owner) else _cell(func, "self")
    if path_view is None or not _is_path_view(path_view):
        return None
    method = method.upper()
    for operation in getattr(path_view, "operations", ()):
        if method in getattr(operation, "methods", ()):
            return getattr(operation, "view_func", None)
    return None  # ninja answers 405 itself (PathView._not_allowed)


def _wagtail_page_view(func: Any) -> Any:
    """The view Wagtail's page router dispatches to, when only one page viewset can answer.

    ``PageViewSetRegistry.as_view`` (``wagtail/admin/viewsets/pages.py``) returns ``view_router``,
    a closure over ``view_name`` and ``get_viewset`` (itself a closure over the registry,
    ``self``): per request it finds the viewset for the page's model (a database query) and calls
    ``viewset.get_view_by_name(view_name)``.
    When the registry holds a single viewset (no custom ``PageViewSet`` registered: the default
    site), that view is the same for every page, so we can name it; otherwise None.
    """
    registry = _cell(_cell(func, "get_viewset"), "self")
    name = _cell(func, "view_name")
    if type(registry).__name__ != "PageViewSetRegistry" or not isinstance(name, str):
        return None
    viewsets = {
        id(v): v
        for table in ("values_by_exact_class", "values_by_class", "values_by_parent_model")
        for v in (getattr(registry, table, None) or {}).values()
    }
    if len(viewsets) != 1:
        return None
    (viewset,) = viewsets.values()
    try:
        return viewset.get_view_by_name(name)
    except Exception:  # an unknown name: Wagtail answers 404 itself
        return None


def view_name(func: Any, method: str = "GET") -> str:
    """Dotted path of the user's callable behind a resolved view (module docstring rules)."""
    while isinstance(func, functools.partial):
        func = func.func
    cls = getattr(func, "cls", None)
    actions = getattr(func, "actions", None)
    if cls is not None and isinstance(actions, dict):
        base = f"{cls.__module__}.{cls.__qualname__}"
        action = actions.get(method.lower())
        return f"{base}.{action}" if action else base
    view_class = getattr(func, "view_class", None)
    if isinstance(view_class, type):
        original = _api_view_function(view_class, method)
        if original is not None:
            return _dotted(original)
        return f"{view_class.__module__}.{view_class.__qualname__}"
    name = _dotted(func)
    if "<locals>" in name:
        # Decorators made with functools.wraps (Wagtail's admin access check, login_required)
        # carry the name; the closure to read is the innermost one.
        func = inspect.unwrap(func)
        operation_function = _ninja_operation_function(func, method)
        if operation_function is not None:
            return _dotted(operation_function)
        page_view = _wagtail_page_view(func)
        if page_view is not None and _wagtail_page_view(page_view) is None:
            return view_name(page_view, method)
    return name


def view_label(match: Any, method: str = "GET") -> str:
    """:func:`view_name` of a ``ResolverMatch``, with the URL name beside a ``<locals>`` name.

    Cached per (view, method, URL name): a request pays one dictionary lookup.
    """
    func = match.func
    url = match.view_name if match.url_name else None
    key = (func, method, url, match.route)
    try:
        return _labels[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable: name it every time
        return _label(func, method, url, match.route)
    label = _label(func, method, url, match.route)
    if len(_labels) >= _MAX_LABELS:
        _labels.clear()
    _labels[key] = label
    return label


def _label(func: Any, method: str, url: str | None, route: str | None) -> str:
    name = view_name(func, method)
    if "<locals>" not in name:
        return name
    beside = url or (f"route {route!r}" if route else None)
    return f"{name} ({beside})" if beside else name


def view_kind(func: Any) -> Kind:
    """``"async"`` if Django will await the view, else ``"sync"``.

    ``asgiref.sync.iscoroutinefunction`` (the check Django's handler uses) also sees class-based
    views that ``as_view()`` marked with ``markcoroutinefunction``; ``inspect``'s does not on 3.11.
    """
    return "async" if iscoroutinefunction(func) else "sync"
