"""A ``startproject`` site with ``ATOMIC_REQUESTS``, a login and a CSRF-refused POST (issue 11).

Django's own record (``django.test.Client`` + ``CaptureQueriesContext``) and asgi-dash must agree on
every request: status, view, kind, route and SQL count, transaction statements included.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import (
    NO_VIEW,
    Comparison,
    Project,
    Step,
    ViewCheck,
    compare_with_django,
    format_mismatches,
    login_steps,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KIND = "atomic"

STEPS = [
    Step("list (anonymous)", "GET", "/notes/"),
    Step("add without CSRF", "POST", "/notes/add/", form={"text": "refused"}),
    Step("private (anonymous)", "GET", "/notes/private/"),
    *login_steps("login", "/accounts/login/"),
    Step("private", "GET", "/notes/private/"),
    Step("add", "POST", "/notes/add/", form={"text": "first"}, csrf="form"),
    Step("add again", "POST", "/notes/add/", form={"text": "second"}, csrf="form"),
    Step("list", "GET", "/notes/"),
    Step("detail", "GET", "/notes/1/"),
    Step("detail of a missing note", "GET", "/notes/999/"),
    Step("recent (async)", "GET", "/notes/recent/"),
    Step("no such URL", "GET", "/no/such/page/"),
    Step("no trailing slash", "GET", "/notes"),
    Step("error", "GET", "/notes/boom/"),
    Step("admin index", "GET", "/admin/"),
]

#: Written from files/atomic/notes/views.py and the URLconf: (status, the callable the user wrote).
EXPECTED: dict[str, tuple[int, ViewCheck]] = {
    "list (anonymous)": (200, "notes.views.NoteListView"),
    "add without CSRF": (403, "notes.views.add_note"),
    "private (anonymous)": (302, "notes.views.private"),
    "login page": (200, "django.contrib.auth.views.LoginView"),
    "login POST": (302, "django.contrib.auth.views.LoginView"),
    "private": (200, "notes.views.private"),
    "add": (302, "notes.views.add_note"),
    "add again": (302, "notes.views.add_note"),
    "list": (200, "notes.views.NoteListView"),
    "detail": (200, "notes.views.NoteDetailView"),
    "detail of a missing note": (404, "notes.views.NoteDetailView"),
    "recent (async)": (200, "notes.views.recent"),
    "no such URL": (404, NO_VIEW),
    # CommonMiddleware (APPEND_SLASH) turns the 404 into a redirect: Django resolved nothing.
    "no trailing slash": (301, NO_VIEW),
    "error": (500, "notes.views.boom"),
    "admin index": (200, "django.contrib.admin.sites.AdminSite.index"),
}


async def test_atomic_requests_project_agrees_with_django(
    make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    comparison: Comparison = await compare_with_django(make_project(KIND), STEPS, tmp_path)
    problems = comparison.mismatches(
        EXPECTED, answered_by={"add without CSRF": "django.middleware.csrf.CsrfViewMiddleware"}
    )
    # Sanity of the fixture: ATOMIC_REQUESTS is on, so Django records transaction statements.
    ref_sql = comparison.row("add").ref["sql"]
    assert any(q.upper().startswith("BEGIN") for q in ref_sql), ref_sql
    assert not problems, format_mismatches("startproject + ATOMIC_REQUESTS", problems)
