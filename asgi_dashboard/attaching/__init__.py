"""Attach: watch processes asgi-dash did not start (``asgi-dash collect``).

``application = asgi_dashboard.attach(application)`` in a project's ``asgi.py`` makes every
process that serves it (gunicorn's Uvicorn workers, daphne, ``manage.py runworker``) report the
same typed events a supervised server does, over a Unix socket (:mod:`.paths`), to a dashboard
started with ``asgi-dash collect``; with no collector listening it records nothing.

Server side: this package imports the instrumentation and the event schema, never the runtime,
the UI or Textual (import-linter contract "attaching"). The package is not named ``attach``:
importing a subpackage binds its name on the parent package, which would hide the
``asgi_dashboard.attach`` function behind a module.

Modules: :mod:`.paths` (where the socket is), :mod:`.sender` (the socket sink and its thread),
:mod:`.wrapper` (the ASGI wrapper).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .wrapper import AttachedApp, attach


def __getattr__(name: str) -> object:
    # Lazy: the collector (dashboard side) imports .paths alone, and must not load the
    # instrumentation (and with it asgiref and Django's modules) for it.
    if name in ("AttachedApp", "attach"):
        from . import wrapper

        return getattr(wrapper, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AttachedApp", "attach"]
