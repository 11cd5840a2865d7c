"""A Wagtail site from ``wagtail start``: pages served by Wagtail's router, an admin login.

Wagtail's admin page views are closures (``PageViewSetRegistry.as_view.<locals>.view_router``): a
name containing ``<locals>`` may never be shown alone, the URL name goes beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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

KIND = "wagtail"

STEPS = [
    Step("home page", "GET", "/"),
    Step("missing page", "GET", "/no-such-page/"),
    Step("search", "GET", "/search/?query=home"),
    Step("admin (anonymous)", "GET", "/admin/"),
    *login_steps("admin login", "/admin/login/"),
    Step("admin home", "GET", "/admin/"),
    Step("page explorer", "GET", "/admin/pages/"),
    Step("edit home page", "GET", "/admin/pages/3/edit/"),
    Step("logout without CSRF", "POST", "/admin/logout/", form={}),
    Step("no such admin URL", "GET", "/admin/no-such-thing/"),
]


def readable(url_name: str) -> tuple[str, Callable[[dict[str, Any], dict[str, Any]], bool]]:
    """A name without ``<locals>``, or the URL name Django resolved shown beside it."""

    def check(event: dict[str, Any], ref: dict[str, Any]) -> bool:
        assert ref["view_name"] == url_name, ref  # the fixture's table matches Django's resolver
        view = event.get("view") or ""
        if not view:
            return False
        if "<locals>" not in view:
            return True
        beside = url_name in view or event.get("url_name") in {url_name, ref["url_name"]}
        return beside

    return (f"a name without <locals> or with URL name {url_name!r} beside it", check)


#: Written from wagtail start's urls.py, wagtail/urls.py and wagtail/admin/urls/.
EXPECTED: dict[str, tuple[int, ViewCheck]] = {
    "home page": (200, "wagtail.views.serve"),
    "missing page": (404, "wagtail.views.serve"),
    "search": (200, "search.views.search"),
    "admin (anonymous)": (302, "wagtail.admin.views.home.HomeView"),
    "admin login page": (200, "wagtail.admin.views.account.LoginView"),
    "admin login POST": (302, "wagtail.admin.views.account.LoginView"),
    "admin home": (200, "wagtail.admin.views.home.HomeView"),
    "page explorer": (200, readable("wagtailadmin_explore_root")),
    "edit home page": (200, readable("wagtailadmin_pages:edit")),
    "logout without CSRF": (403, "wagtail.admin.views.account.LogoutView"),
    # Wagtail's admin URLconf ends with a catch-all that renders its own 404 page.
    "no such admin URL": (404, "wagtail.admin.views.home.default"),
}


async def test_wagtail_site_agrees_with_django(
    make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    comparison = await compare_with_django(make_project(KIND), STEPS, tmp_path)
    problems = comparison.mismatches(
        EXPECTED, answered_by={"logout without CSRF": "django.middleware.csrf.CsrfViewMiddleware"}
    )
    assert not problems, format_mismatches("Wagtail", problems)
