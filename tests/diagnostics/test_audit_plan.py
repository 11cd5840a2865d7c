"""The audit's replay of ``BaseHandler.load_middleware``: modes, adaptation, hops, fixes."""

from __future__ import annotations

import pytest

from asgi_dashboard.diagnostics.audit import (
    SYNC_ONLY_FIX,
    MiddlewareFacts,
    build_audit,
    format_audit,
    plan_chain,
)

MIXIN_RR = ("process_request", "process_response")
SECURITY = MiddlewareFacts(
    "django.middleware.security.SecurityMiddleware", True, True, True, MIXIN_RR
)
CSRF = MiddlewareFacts(
    "django.middleware.csrf.CsrfViewMiddleware",
    True,
    True,
    True,
    ("process_request", "process_view", "process_response"),
)
NATIVE = MiddlewareFacts("app.mw.Timing", True, True)
SYNC_ONLY = MiddlewareFacts("app.mw.Legacy", True, False)
ASYNC_ONLY = MiddlewareFacts("app.mw.Fast", False, True)


def test_all_capable_chain_runs_async_with_mixin_hops() -> None:
    plan = plan_chain([SECURITY, NATIVE, CSRF])
    assert [p.runs_as for p in plan] == ["async", "async", "async"]
    assert not any(p.adapted for p in plan)
    # MiddlewareMixin.__acall__: process_request + process_response; Csrf adds process_view.
    assert [p.hops for p in plan] == [2, 0, 3]
    assert all(p.fix is None for p in plan)  # Django's own, and a native async one


def test_sync_only_outermost_adds_one_hop_and_one_switch() -> None:
    plan = plan_chain([SYNC_ONLY, SECURITY, CSRF])
    assert [p.runs_as for p in plan] == ["sync", "async", "async"]
    assert [p.adapted for p in plan] == [True, False, False]
    assert (plan[0].hops, plan[0].switches) == (1, 1)  # top of stack + async_to_sync below it
    assert plan[0].fix == SYNC_ONLY_FIX
    assert sum(p.hops for p in plan) == 1 + 2 + 3


def test_sync_only_innermost_pulls_the_chain_into_its_thread() -> None:
    plan = plan_chain([SECURITY, CSRF, SYNC_ONLY])
    assert [p.runs_as for p in plan] == ["sync", "sync", "sync"]
    assert [p.adapted for p in plan] == [False, False, True]
    # Top hop on the outermost entry, Csrf's process_view is still adapted to async.
    assert [p.hops for p in plan] == [1, 1, 0]
    assert [p.switches for p in plan] == [0, 0, 1]


def test_async_only_below_sync_only_is_a_second_hop() -> None:
    plan = plan_chain([SYNC_ONLY, ASYNC_ONLY])
    assert [p.runs_as for p in plan] == ["sync", "async"]
    # The sync one wraps the async one (switch), the top is adapted (hop).
    assert (plan[0].hops, plan[0].switches, plan[1].hops) == (1, 1, 0)
    plan = plan_chain([ASYNC_ONLY, SYNC_ONLY])
    assert [p.runs_as for p in plan] == ["async", "sync"]
    assert plan[0].hops == 1 and plan[0].adapted  # sync_to_async around the sync layer
    assert plan[1].switches == 1


def test_project_mixin_middleware_gets_a_fix() -> None:
    own = MiddlewareFacts("app.mw.Old", True, True, True, ("process_request", "process_view"))
    (p,) = plan_chain([own])
    assert p.hops == 2
    assert p.fix is not None and "process_request" in p.fix and "process_view" in p.fix


def test_async_process_view_is_not_a_hop() -> None:
    f = MiddlewareFacts("app.mw.V", True, True, False, ("process_view",), ("process_view",))
    assert plan_chain([f])[0].hops == 0


def test_neither_capable_is_rejected() -> None:
    with pytest.raises(ValueError, match="neither"):
        plan_chain([MiddlewareFacts("x.Y", False, False)])


def test_build_audit_costs_and_format() -> None:
    audit = build_audit([SYNC_ONLY, SECURITY], hop_ns=50_000, switch_ns=30_000, debug=True)
    assert audit.entries == (("app.mw.Legacy", "sync", True), (SECURITY.path, "both", False))
    assert (audit.hops_per_request, audit.switches_per_request) == (3, 1)
    assert audit.cost_ns_per_request == 3 * 50_000 + 30_000
    text = format_audit(audit)
    assert text.splitlines()[0] == (
        "middleware audit: 2 entries (1 sync-only), 3 thread hop(s) + 1 switch(es) back per "
        "request ≈ 180 µs (hop 50 µs, switch 30 µs)"
    )
    assert "app.mw.Legacy" in text and "adapted" in text and "fix app.mw.Legacy:" in text
