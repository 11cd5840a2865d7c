"""Views for the SQL-truth tests (tests/instrument/test_sql_truth.py): the demo's URLconf plus
views that use transactions the ways real projects do. Served through the demo's settings with
``ROOT_URLCONF`` pointing here (``override_settings``)."""

from __future__ import annotations

from demoapp.models import Category, Item
from demosite.urls import urlpatterns as demo_urlpatterns
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path


def _name(request: HttpRequest) -> str:
    name: str = request.GET.get("name", "sql-truth")
    return name


def atomic_savepoints(request: HttpRequest) -> JsonResponse:
    """An outer ``atomic`` block with two nested ones: one released, one rolled back to its
    savepoint (an IntegrityError caught inside it), then the outer block commits."""
    with transaction.atomic():
        count = Item.objects.count()
        with transaction.atomic():
            category = Category.objects.create(name=_name(request))
        try:
            with transaction.atomic():
                Category.objects.create(name=category.name)  # unique: IntegrityError
        except IntegrityError:
            pass
        category.delete()
    return JsonResponse({"count": count})


def raises_in_atomic(request: HttpRequest) -> JsonResponse:
    """A write inside ``atomic``, then an exception: Django rolls the transaction back and the
    view answers 500."""
    with transaction.atomic():
        Category.objects.create(name=_name(request))
        raise RuntimeError("rolled back on purpose")


def two_sites(request: HttpRequest) -> JsonResponse:
    """The same SQL from three lines, the last one in a loop: each statement keeps its line."""
    Item.objects.filter(pk=1).first()  # site: first
    Item.objects.filter(pk=1).first()  # site: second
    for pk in (1, 2, 3):
        Item.objects.filter(pk=pk).first()  # site: loop
    return JsonResponse({})


urlpatterns = [
    path("sql/two-sites/", two_sites),
    path("sql/atomic/", atomic_savepoints),
    path("sql/raises/", raises_in_atomic),
    *demo_urlpatterns,
]
