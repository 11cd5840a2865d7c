"""Middleware audit: the project's MIDDLEWARE as Django's async handler runs it, and its cost.

The plan and its wording are pure (no Django), so the UI and headless output import this module;
the server process reads the chain from Django and measures the switches in
:mod:`.audit_server` (called by ``runtime/bootstrap.startup_checks``). Django builds the chain
once, innermost first, in ``BaseHandler.load_middleware`` (``django/core/handlers/base.py``);
:func:`plan_chain` replays that walk from each entry's declared capabilities, without
instantiating anything:

* ``sync_capable`` defaults to True and ``async_capable`` to False (Django docs, "Asynchronous
  support" in the middleware topic), read with ``getattr`` exactly as ``load_middleware`` does.
* An entry runs sync when the handler below it is sync and it can run sync; otherwise it runs in
  whatever mode it can. When its mode differs from the handler below, ``adapt_method_mode`` wraps
  that handler (``async_to_sync`` or ``sync_to_async(thread_sensitive=True)``) and, at DEBUG only,
  logs "Asynchronous handler adapted for middleware ...". The top of the chain is adapted to
  async the same way.
* ``process_view`` and ``process_template_response`` are adapted to the handler's mode
  (async under ASGI): a sync ``process_view`` is one ``sync_to_async`` per request that reaches a
  view. ``process_exception`` is always adapted to sync (only on errors, not counted).
* ``MiddlewareMixin.__acall__`` (``django/utils/deprecation.py``) runs ``process_request`` and
  ``process_response`` through ``sync_to_async`` in async mode: one hop each, per request, even
  for Django's own "both"-capable middleware. In sync mode the mixin calls them directly.

So a sync-only middleware in an async chain makes a "sync island": one hop into a thread above
it and one switch back to the loop below it, on every request, with every "both" middleware
above it (up to the next async-only one) pulled into the thread too. The predicted hop count is
what the request events' ``sync_hops`` (``SyncToAsync`` calls, see ``instrument/hooks.py``)
count for the middleware; the view and Django's signals add their own hops on top.

``audit_server.measure_switch_costs`` times the two kinds of switch in the server process
(bounded), so the audit can say what the chain's switching costs per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..events import Kind, MiddlewareAudit, MiddlewareInfo

#: Hook methods ``load_middleware`` looks for on an instance (plus the mixin's two).
HOOKS = (
    "process_request",
    "process_view",
    "process_template_response",
    "process_response",
    "process_exception",
)

SYNC_ONLY_FIX = (
    "sync-only in an async chain: every request hops to a thread to run it and switches back to "
    "the loop for the layers below. Make it async-capable (sync_capable = True, async_capable = "
    "True; when get_response is a coroutine function, markcoroutinefunction(self) and await it "
    "in an async __call__; see Django's docs, Middleware > Asynchronous support), or, if you "
    "cannot change it, keep it next to the other sync-only middleware so they share one island."
)
ASYNC_ONLY_FIX = (
    "async-only next to sync middleware: Django wraps the sync layer below it in "
    "sync_to_async on every request. Make it sync-capable too, or move it next to async layers."
)


@dataclass(frozen=True, slots=True)
class MiddlewareFacts:
    """What the audit needs to know about one MIDDLEWARE entry (no Django objects)."""

    path: str
    can_sync: bool = True
    can_async: bool = False
    #: Runs through ``MiddlewareMixin.__call__``/``__acall__`` (not overridden).
    mixin: bool = False
    #: Hook methods it defines, and which of them are coroutine functions.
    hooks: tuple[str, ...] = ()
    async_hooks: tuple[str, ...] = ()

    @property
    def capability(self) -> Literal["sync", "async", "both"]:
        if self.can_sync and self.can_async:
            return "both"
        return "async" if self.can_async else "sync"

    @property
    def own(self) -> bool:
        """Not Django's own: something the project (or its dependency) can change."""
        return not self.path.startswith("django.")


def _mixin_hop_hooks(f: MiddlewareFacts) -> list[str]:
    pair = ("process_request", "process_response")
    return [h for h in pair if h in f.hooks and h not in f.async_hooks]


def _fix(f: MiddlewareFacts, mode: Kind, hops: int, switches: int) -> str | None:
    if not f.can_async and (hops or switches):
        return SYNC_ONLY_FIX
    if not f.can_sync and (hops or switches) and f.own:
        return ASYNC_ONLY_FIX
    if not f.own:
        return None  # Django's own: the hops are inherent; the widget still shows them.
    parts = []
    mixin_hooks = _mixin_hop_hooks(f) if f.mixin and mode == "async" else []
    if mixin_hooks:
        parts.append(
            f"MiddlewareMixin runs {' and '.join(mixin_hooks)} via sync_to_async under ASGI "
            f"({len(mixin_hooks)} hop(s) per request): write it as an async-capable middleware "
            "with an async __call__ instead of hooks."
        )
    if "process_view" in f.hooks and "process_view" not in f.async_hooks:
        parts.append("process_view is sync, so Django wraps it in sync_to_async: make it async.")
    return " ".join(parts) or None


def plan_chain(facts: Sequence[MiddlewareFacts], is_async: bool = True) -> list[MiddlewareInfo]:
    """Replay ``BaseHandler.load_middleware(is_async)``: each entry's mode, adaptation and hops.

    ``facts`` are in settings order (outermost first); so is the result. Raises ``ValueError``
    for an entry that is neither sync- nor async-capable (Django raises RuntimeError at start).
    """
    n = len(facts)
    modes: list[Kind] = ["sync"] * n
    adapted = [False] * n
    handler_is_async = is_async  # the base handler: _get_response_async under ASGI
    for i in reversed(range(n)):  # innermost first, as Django walks reversed(MIDDLEWARE)
        f = facts[i]
        if not f.can_sync and not f.can_async:
            raise ValueError(f"{f.path} has neither sync_capable nor async_capable set to True")
        # Django: sync if the handler below is sync and it can; else async if it can.
        mw_async = False if not handler_is_async and f.can_sync else f.can_async
        adapted[i] = mw_async != handler_is_async
        modes[i] = "async" if mw_async else "sync"
        handler_is_async = mw_async
    hops = [0] * n
    switches = [0] * n
    for i, f in enumerate(facts):
        if adapted[i]:
            # The handler below entry i was wrapped: sync_to_async under an async entry (a hop
            # into a thread), async_to_sync under a sync one (a switch back to the loop).
            if modes[i] == "async":
                hops[i] += 1
            else:
                switches[i] += 1
        if not is_async:
            continue
        if f.mixin and modes[i] == "async":
            hops[i] += len(_mixin_hop_hooks(f))
        if "process_view" in f.hooks and "process_view" not in f.async_hooks:
            hops[i] += 1
    if n and is_async and modes[0] == "sync":
        hops[0] += 1  # "Adapt the top of the stack": sync_to_async around the outermost entry
    return [
        MiddlewareInfo(
            path=f.path,
            capability=f.capability,
            runs_as=modes[i],
            adapted=adapted[i],
            hops=hops[i],
            switches=switches[i],
            hooks=f.hooks,
            fix=_fix(f, modes[i], hops[i], switches[i]),
        )
        for i, f in enumerate(facts)
    ]


def build_audit(
    facts: Sequence[MiddlewareFacts],
    *,
    hop_ns: int | None = None,
    switch_ns: int | None = None,
    debug: bool = False,
    error: str | None = None,
) -> MiddlewareAudit:
    """The event for an async handler, from facts and (optionally) measured costs."""
    details = tuple(plan_chain(facts, is_async=True))
    hops = sum(d.hops for d in details)
    switches = sum(d.switches for d in details)
    cost = None
    if hop_ns is not None and switch_ns is not None:
        cost = hops * hop_ns + switches * switch_ns
    return MiddlewareAudit(
        entries=tuple((d.path, d.capability, d.adapted) for d in details),
        handler_is_async=True,
        details=details,
        hops_per_request=hops,
        switches_per_request=switches,
        hop_ns=hop_ns,
        switch_ns=switch_ns,
        cost_ns_per_request=cost,
        debug=debug,
        error=error,
    )


# -- formatting (pure) ------------------------------------------------------------------------


def _us(ns: int) -> str:
    return f"{ns / 1000:.0f} µs" if ns < 1_000_000 else f"{ns / 1e6:.2f} ms"


def summary(audit: MiddlewareAudit) -> str:
    """One line: how many entries, hops and switches per request, and what they cost."""
    sync_only = sum(1 for d in audit.details if d.capability == "sync")
    line = (
        f"middleware audit: {len(audit.entries)} entries"
        + (f" ({sync_only} sync-only)" if sync_only else "")
        + f", {audit.hops_per_request} thread hop(s) + {audit.switches_per_request} switch(es) "
        "back per request"
    )
    if audit.cost_ns_per_request is not None and audit.hop_ns is not None:
        line += f" ≈ {_us(audit.cost_ns_per_request)} (hop {_us(audit.hop_ns)}"
        line += f", switch {_us(audit.switch_ns)})" if audit.switch_ns is not None else ")"
    return line


def format_audit(audit: MiddlewareAudit, *, fixes: bool = True) -> str:
    """A readable table (headless output and logs): one row per entry, then the fixes."""
    lines = [summary(audit)]
    width = max((len(d.path) for d in audit.details), default=10)
    for d in audit.details:
        cost = f"{d.hops} hop" + ("s" if d.hops != 1 else "")
        if d.switches:
            cost += f" + {d.switches} switch" + ("es" if d.switches != 1 else "")
        mark = " adapted" if d.adapted else ""
        lines.append(f"  {d.path:<{width}}  {d.capability:<5} runs {d.runs_as:<5} {cost}{mark}")
    if fixes:
        for d in audit.details:
            if d.fix:
                lines.append(f"  fix {d.path}: {d.fix}")
    if audit.error:
        lines.append(f"  incomplete: {audit.error}")
    return "\n".join(lines)
