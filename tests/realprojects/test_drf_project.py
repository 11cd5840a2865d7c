"""A Django REST framework project: ``@api_view`` functions and a ``ModelViewSet`` behind a router.

Session authentication, ``ATOMIC_REQUESTS`` on; DRF enforces CSRF itself for logged-in sessions
(its views are ``csrf_exempt``), so a refused POST there is answered by the view, not middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import (
    Project,
    Step,
    ViewCheck,
    compare_with_django,
    format_mismatches,
    login_steps,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KIND = "drf"

ITEM = {"name": "teapot", "price": "12.50", "category": 1}

STEPS = [
    Step("ping", "GET", "/api/ping/"),
    Step("categories", "GET", "/api/categories/"),
    Step("items (anonymous)", "GET", "/api/items/"),
    Step("create (anonymous)", "POST", "/api/items/", json=ITEM),
    *login_steps("login", "/api-auth/login/"),
    Step("create without CSRF", "POST", "/api/items/", json=ITEM),
    Step("add category", "POST", "/api/categories/", json={"name": "kitchen"}, csrf="header"),
    Step("create", "POST", "/api/items/", json=ITEM, csrf="header"),
    Step("create again", "POST", "/api/items/", json=ITEM, csrf="header"),
    Step("invalid create", "POST", "/api/items/", json={"name": ""}, csrf="header"),
    Step("list", "GET", "/api/items/"),
    Step("retrieve", "GET", "/api/items/1/"),
    Step("retrieve missing", "GET", "/api/items/999/"),
    Step("partial update", "PATCH", "/api/items/1/", json={"price": "9.99"}, csrf="header"),
    Step("destroy", "DELETE", "/api/items/2/", csrf="header"),
    Step("method not allowed", "DELETE", "/api/ping/", csrf="header"),
]

VIEWSET = "shop.views.ItemViewSet"
#: Written from files/drf/shop/views.py: the decorated function, or ``module.Class.action``.
EXPECTED: dict[str, tuple[int, ViewCheck]] = {
    "ping": (200, "shop.views.ping"),
    "categories": (200, "shop.views.categories"),
    "items (anonymous)": (200, f"{VIEWSET}.list"),
    "create (anonymous)": (403, f"{VIEWSET}.create"),
    "login page": (200, "django.contrib.auth.views.LoginView"),
    "login POST": (302, "django.contrib.auth.views.LoginView"),
    "create without CSRF": (403, f"{VIEWSET}.create"),
    "add category": (201, "shop.views.categories"),
    "create": (201, f"{VIEWSET}.create"),
    "create again": (201, f"{VIEWSET}.create"),
    "invalid create": (400, f"{VIEWSET}.create"),
    "list": (200, f"{VIEWSET}.list"),
    "retrieve": (200, f"{VIEWSET}.retrieve"),
    "retrieve missing": (404, f"{VIEWSET}.retrieve"),
    "partial update": (200, f"{VIEWSET}.partial_update"),
    "destroy": (204, f"{VIEWSET}.destroy"),
    "method not allowed": (405, "shop.views.ping"),
}


async def test_drf_project_agrees_with_django(
    make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    comparison = await compare_with_django(make_project(KIND), STEPS, tmp_path)
    # DRF refuses a session POST without CSRF inside the view (its views are csrf_exempt;
    # SessionAuthentication.enforce_csrf): no middleware answered any of these.
    problems = comparison.mismatches(EXPECTED)
    assert not problems, format_mismatches("DRF", problems)
