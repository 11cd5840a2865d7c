"""View naming rules, on each kind of view Django resolves."""

from __future__ import annotations

import django
import pytest
from django.urls import resolve

from asgi_dashboard.instrument.naming import view_kind, view_name

django.setup()

URLS = "tests.unit.naming_urls"


@pytest.mark.parametrize(
    ("path", "method", "name", "kind", "route"),
    [
        ("/plain/", "GET", "tests.unit.naming_urls.plain", "sync", "plain/"),
        ("/coroutine/", "GET", "tests.unit.naming_urls.coroutine", "async", "coroutine/"),
        ("/decorated/", "GET", "tests.unit.naming_urls.decorated", "sync", "decorated/"),
        ("/cbv/sync/3/", "GET", "tests.unit.naming_urls.SyncCBV", "sync", "cbv/sync/<int:pk>/"),
        ("/cbv/async/", "GET", "tests.unit.naming_urls.AsyncCBV", "async", "cbv/async/"),
        ("/partial/", "GET", "tests.unit.naming_urls._with_greeting", "sync", "partial/"),
        ("/admin/", "GET", "django.contrib.admin.sites.AdminSite.index", "sync", "admin/"),
        ("/api/books/", "GET", "tests.unit.naming_urls.BookViewSet.list", "sync", None),
        ("/api/books/", "POST", "tests.unit.naming_urls.BookViewSet.create", "sync", None),
        ("/api/books/7/", "GET", "tests.unit.naming_urls.BookViewSet.retrieve", "sync", None),
        ("/api/books/7/", "DELETE", "tests.unit.naming_urls.BookViewSet", "sync", None),
    ],
)
def test_view_names(path: str, method: str, name: str, kind: str, route: str | None) -> None:
    match = resolve(path, urlconf=URLS)
    assert view_name(match.func, method) == name
    assert view_kind(match.func) == kind
    if route is not None:
        assert match.route == route


def test_admin_model_views_name_the_model_admin_method() -> None:
    match = resolve("/admin/auth/user/", urlconf=URLS)
    assert view_name(match.func) == "django.contrib.admin.options.ModelAdmin.changelist_view"
