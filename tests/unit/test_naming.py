"""View naming rules, on each kind of view Django resolves (real django-ninja, DRF, Wagtail)."""

from __future__ import annotations

from pathlib import Path

import django
import pytest
from django.urls import resolve

from asgi_dashboard.instrument.naming import view_kind, view_label, view_name

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


U = "tests.unit.naming_urls."


@pytest.mark.parametrize(
    ("path", "method", "label", "kind"),
    [
        # django-ninja: one PathView per path; the operation function for the method. The kind
        # is the PathView's (async as soon as one operation of the path is async).
        ("/ninja/things", "GET", U + "list_things", "async"),
        ("/ninja/things", "POST", U + "create_thing", "async"),
        ("/ninja/sync-only/3", "GET", U + "get_sync_only", "sync"),
        ("/ninja/items/3", "GET", U + "get_item", "async"),
        ("/ninja/items/3", "DELETE", U + "delete_item", "async"),
        # No operation for the method (ninja answers 405): the wrapper, with the URL name.
        (
            "/ninja/things",
            "PUT",
            "ninja.operation.PathView.get_view.<locals>.async_view_wrapper"
            " (naming-api:list_things)",
            "async",
        ),
        # DRF @api_view: the decorated function, for every method it accepts and OPTIONS.
        ("/drf/function/", "GET", U + "drf_function", "sync"),
        ("/drf/function/", "POST", U + "drf_function", "sync"),
        ("/drf/function/", "OPTIONS", U + "drf_function", "sync"),
        ("/drf/default/", "GET", U + "drf_default_get", "sync"),
        # A closure: never alone; the namespaced URL name, else the route, beside it.
        ("/closure/", "GET", U + "_closure_factory.<locals>.generated (closure)", "sync"),
        ("/ns/closure/", "GET", U + "_closure_factory.<locals>.generated (outer:inner)", "sync"),
        (
            "/closure-unnamed/",
            "GET",
            U + "_closure_factory.<locals>.generated (route 'closure-unnamed/')",
            "sync",
        ),
        # Unchanged rules through view_label.
        ("/api/books/7/", "GET", U + "BookViewSet.retrieve", "sync"),
        ("/cbv/async/", "GET", U + "AsyncCBV", "async"),
    ],
)
def test_framework_views_are_named_after_the_users_callable(
    path: str, method: str, label: str, kind: str
) -> None:
    match = resolve(path, urlconf=URLS)
    assert view_label(match, method) == label
    assert view_label(match, method) == label  # the cached answer is the same
    assert view_kind(match.func) == kind


def test_ninja_kind_is_what_django_calls() -> None:
    """Django awaits the PathView wrapper: a sync operation beside an async one runs async."""
    from asgiref.sync import iscoroutinefunction

    match = resolve("/ninja/items/3", urlconf=URLS)
    assert iscoroutinefunction(match.func) and view_kind(match.func) == "async"
    assert view_name(match.func, "DELETE") == U + "delete_item"


WAGTAIL_SCRIPT = r"""
import django, json, sys
from django.conf import settings
settings.configure(
    INSTALLED_APPS=[
        "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
        "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
        "wagtail.admin", "wagtail", "wagtail.users", "wagtail.images", "wagtail.documents",
        "wagtail.snippets", "wagtail.sites", "taggit", "modelcluster",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    ROOT_URLCONF="wagtail_naming_urls", SECRET_KEY="x", WAGTAIL_SITE_NAME="t", USE_TZ=True,
    STATIC_URL="/static/", WAGTAILADMIN_BASE_URL="http://127.0.0.1",
)
django.setup()
from django.urls import resolve
from asgi_dashboard.instrument.naming import view_kind, view_label
from asgi_dashboard.instrument import naming
from wagtail.admin.viewsets.pages import page_viewset_registry

out = {}
for path in sys.argv[1:]:
    match = resolve(path)
    out[path] = [view_label(match, "GET"), view_kind(match.func)]
# A second page viewset (as a custom PageViewSet for one page model registers): the router's
# choice now depends on the page, so its view cannot be named without a query.
page_viewset_registry.values_by_class[type("CustomPage", (), {})] = object()
naming._labels.clear()
match = resolve(sys.argv[1])
out["custom"] = [view_label(match, "GET"), view_kind(match.func)]
print(json.dumps(out))
"""

WAGTAIL_URLS = """
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
urlpatterns = [path("admin/", include(wagtailadmin_urls)), path("", include(wagtail_urls))]
"""


@pytest.mark.slow
def test_wagtail_page_router_names_the_view_it_dispatches_to(tmp_path: Path) -> None:
    """Wagtail's admin page views go through ``PageViewSetRegistry.as_view``'s ``view_router``
    (behind Wagtail's admin-access decorator): with the default single page viewset its view is
    known; with custom page viewsets it depends on the page, and the URL name is shown beside."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    (tmp_path / "wagtail_naming_urls.py").write_text(WAGTAIL_URLS)
    router = "wagtail.admin.viewsets.pages.PageViewSetRegistry.as_view.<locals>.view_router"
    paths = ["/admin/pages/3/edit/", "/admin/pages/3/", "/admin/", "/some/page/"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO)])
    done = subprocess.run(
        [sys.executable, "-c", WAGTAIL_SCRIPT, *paths],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    names = json.loads(done.stdout.strip().splitlines()[-1])
    assert names == {
        "/admin/pages/3/edit/": ["wagtail.admin.views.pages.edit.EditView", "sync"],
        "/admin/pages/3/": ["wagtail.admin.views.pages.listing.ExplorableIndexView", "sync"],
        "/admin/": ["wagtail.admin.views.home.HomeView", "sync"],
        "/some/page/": ["wagtail.views.serve", "sync"],
        "custom": [f"{router} (wagtailadmin_pages:edit)", "sync"],
    }
