"""N+1 through the instrumented demo (httpx ``ASGITransport``): the fix is derived from the real
models, every other demo page gets no flag, and the suggested fix, applied to a copy of the view,
makes the flag go away (and the statements drop to one or two)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from asgi_dashboard.instrument import nplus1
from asgi_dashboard.sqlgroups import n_plus_one_fix
from tests.instrument.conftest import Instrumented

#: The demo pages that are N+1 on purpose, and the fix each must get.
N_PLUS_ONE_PAGES = {
    "/orm/n-plus-one/": ("demoapp.Item", "category", "select_related('category')"),
    "/orm/n-plus-one/reverse/": (
        "contenttypes.ContentType",
        "permission_set",
        "prefetch_related('permission_set')",
    ),
}
#: Query strings so the sleeping views answer at once.
QUERY = {"sync/", "async/", "cbv/sync/", "cbv/async/", "blocking/"}


@pytest.fixture(autouse=True)
def _urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="tests.instrument.nplus1_urls"):
        yield


@pytest.fixture
def threshold() -> Iterator[None]:
    """Restore the process's threshold after a test that changes it."""
    before = nplus1.threshold
    yield
    nplus1.configure(before)


def demo_pages() -> list[str]:
    """Every page of the demo's URLconf (as it is now: other demo views get added)."""
    from demosite.urls import urlpatterns  # (imports models: once Django is set up)
    from django.urls import URLPattern

    pages = []
    for pattern in urlpatterns:
        route = str(pattern.pattern)
        if not isinstance(pattern, URLPattern):
            pages.append("/" + route)  # admin/: its index (a redirect to the login page)
        elif "<" in route:
            pages.append("/" + route.split("<")[0] + "lobby/")
        else:
            pages.append("/" + route + ("?ms=0" if route in QUERY else ""))
    return pages


@pytest.mark.parametrize("page", sorted(N_PLUS_ONE_PAGES))
async def test_demo_n_plus_one_pages_get_the_fix(instrumented: Instrumented, page: str) -> None:
    response, event = await instrumented.get(page)
    assert response.status_code == 200
    (found,) = event.n_plus_one
    queryset_model, relation, fix = N_PLUS_ONE_PAGES[page]
    assert (found.queryset_model, found.relation, found.fix) == (queryset_model, relation, fix)
    assert found.count == event.sql_count - 1 >= nplus1.DEFAULT_THRESHOLD
    assert found.source is not None
    assert found.source.filename.endswith("demoapp/views.py")
    assert "# ... + 1 per" in found.source.line  # the loop's body, as the view marks it
    assert n_plus_one_fix(found) == f"{queryset_model.split('.')[1]}.objects.{fix}"


async def test_no_other_demo_page_is_flagged(instrumented: Instrumented) -> None:
    flagged, seen = [], 0
    for page in demo_pages():
        if page.split("?")[0] in N_PLUS_ONE_PAGES:
            continue
        _, event = await instrumented.get(page)
        seen += 1
        if event.n_plus_one:
            flagged.append((page, event.n_plus_one))
    assert seen >= 15
    assert not flagged


async def test_a_paginated_list_is_two_statements_and_no_flag(instrumented: Instrumented) -> None:
    for page in ("/orm/paginated/", "/orm/paginated/?page=2", "/orm/paginated/?page=3"):
        response, event = await instrumented.get(page)
        assert response.status_code == 200
        assert event.sql_count == 2 and event.n_plus_one == ()


async def test_a_loop_below_the_threshold_and_different_sql_per_turn(
    instrumented: Instrumented,
) -> None:
    _, short = await instrumented.get("/orm/categories/")
    assert short.sql_count == 4 and short.n_plus_one == ()  # 1 + 3 categories < 5
    _, different = await instrumented.get("/t/different/")
    assert different.sql_count == 6 and different.n_plus_one == ()


async def test_a_lower_threshold_flags_the_short_loop(
    instrumented: Instrumented, threshold: None
) -> None:
    nplus1.configure(3)
    _, event = await instrumented.get("/orm/categories/")
    (found,) = event.n_plus_one
    assert (found.count, found.fix) == (3, "prefetch_related('items')")
    assert found.queryset_model == "demoapp.Category" and found.model == "demoapp.Item"
    nplus1.configure(0)
    _, off = await instrumented.get("/orm/n-plus-one/")
    assert off.n_plus_one == ()


@pytest.mark.parametrize(
    ("page", "fixed", "statements"),
    [("/orm/n-plus-one/", "/t/fixed/", 1), ("/orm/n-plus-one/reverse/", "/t/fixed-reverse/", 2)],
)
async def test_the_suggested_fix_removes_the_flag(
    instrumented: Instrumented, page: str, fixed: str, statements: int
) -> None:
    _, before = await instrumented.get(page)
    assert before.n_plus_one
    response, after = await instrumented.get(fixed)
    assert response.status_code == 200
    assert after.n_plus_one == ()
    assert after.sql_count == statements < before.sql_count


async def test_an_async_orm_loop_gets_the_same_fix(instrumented: Instrumented) -> None:
    """``aget`` per item, awaited: the statements run on a worker thread, their line is found
    down the request task's coroutines (here the demo's middleware: this test module is not the
    project's code), one line for all of them."""
    _, event = await instrumented.get("/t/async-loop/")
    (found,) = event.n_plus_one
    assert found.count == event.sql_count - 1
    assert found.fix == "select_related('category')" and found.queryset_model == "demoapp.Item"
