"""The middleware audit's server half: read ``settings.MIDDLEWARE`` and time the thread hops.

Runs in the server process at start (``runtime/bootstrap.startup_checks``), where Django is set
up; the plan and its wording are in :mod:`.audit`, which the dashboard imports. Only the server
process imports this module (the layer contracts in ``pyproject.toml`` check it).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from asgiref.sync import ThreadSensitiveContext, async_to_sync, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string

from ..events import MiddlewareAudit
from .audit import HOOKS, MiddlewareFacts, build_audit

#: Micro-benchmark bounds: at most this many round trips of each kind, within this budget.
BENCH_ROUNDS = 200
BENCH_BUDGET_S = 0.25


def facts_for(path: str, middleware: Any) -> MiddlewareFacts:
    """Facts from an imported middleware class or factory function (as ``load_middleware``)."""
    hooks = tuple(h for h in HOOKS if callable(getattr(middleware, h, None)))
    async_hooks = tuple(h for h in hooks if iscoroutinefunction(getattr(middleware, h)))
    mixin = (
        isinstance(middleware, type)
        and issubclass(middleware, MiddlewareMixin)
        and middleware.__call__ is MiddlewareMixin.__call__
        and getattr(middleware, "__acall__", None) is MiddlewareMixin.__acall__
    )
    return MiddlewareFacts(
        path=path,
        can_sync=bool(getattr(middleware, "sync_capable", True)),
        can_async=bool(getattr(middleware, "async_capable", False)),
        mixin=mixin,
        hooks=hooks,
        async_hooks=async_hooks,
    )


def _noop() -> None:
    return None


async def _anoop() -> None:
    return None


def measure_switch_costs(
    rounds: int = BENCH_ROUNDS, budget_s: float = BENCH_BUDGET_S
) -> tuple[int, int]:
    """Median ns of one ``sync_to_async`` round trip and of one ``async_to_sync`` call from
    that thread, on a private loop (call it from a thread with no running loop).

    Inside a ``ThreadSensitiveContext``, as ``ASGIHandler.__call__`` runs each request, so the
    hops go to a per-context thread like a request's do. Bounded by ``rounds`` and ``budget_s``.
    """
    deadline = time.perf_counter() + budget_s / 2

    def switch_back() -> list[int]:
        call = async_to_sync(_anoop)
        call()  # warm-up
        out = []
        end = time.perf_counter() + budget_s / 2
        for _ in range(rounds):
            start = time.perf_counter_ns()
            call()
            out.append(time.perf_counter_ns() - start)
            if time.perf_counter() > end:
                break
        return out

    async def bench() -> tuple[int, int]:
        async with ThreadSensitiveContext():
            hop = sync_to_async(_noop, thread_sensitive=True)
            await hop()  # warm-up: creates the context's thread
            hops = []
            for _ in range(rounds):
                start = time.perf_counter_ns()
                await hop()
                hops.append(time.perf_counter_ns() - start)
                if time.perf_counter() > deadline:
                    break
            backs = await sync_to_async(switch_back, thread_sensitive=True)()
        return int(statistics.median(hops)), int(statistics.median(backs))

    return asyncio.run(bench())


def audit_middleware(*, measure: bool = True) -> MiddlewareAudit:
    """Audit ``settings.MIDDLEWARE`` in this (set-up) server process."""
    facts: list[MiddlewareFacts] = []
    problems: list[str] = []
    for path in settings.MIDDLEWARE:
        try:
            facts.append(facts_for(path, import_string(path)))
        except Exception as exc:  # the server reports the import error itself; keep auditing
            problems.append(f"{path}: {type(exc).__name__}: {exc}")
    hop_ns = switch_ns = None
    if measure:
        try:
            hop_ns, switch_ns = measure_switch_costs()
        except Exception as exc:
            problems.append(f"hop cost not measured: {type(exc).__name__}: {exc}")
    try:
        return build_audit(
            facts,
            hop_ns=hop_ns,
            switch_ns=switch_ns,
            debug=bool(settings.DEBUG),
            error="; ".join(problems) or None,
        )
    except ValueError as exc:
        return MiddlewareAudit(entries=(), error=str(exc), debug=bool(settings.DEBUG))
