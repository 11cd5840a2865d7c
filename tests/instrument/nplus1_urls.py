"""Views for the N+1 tests (tests/instrument/test_nplus1.py): the demo's URLconf plus copies of
its N+1 views with the fix asgi-dash suggests applied, a loop whose SQL differs per iteration and
an async loop. Served through the demo's settings with ``ROOT_URLCONF`` pointing here."""

from __future__ import annotations

from demoapp.models import Category, Item
from demosite.urls import urlpatterns as demo_urlpatterns
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, JsonResponse
from django.urls import path


def fixed_n_plus_one(request: HttpRequest) -> JsonResponse:
    """``/orm/n-plus-one/`` with the fix applied: ``Item.objects.select_related('category')``."""
    names = []
    for item in Item.objects.select_related("category"):
        names.append({"item": item.name, "category": item.category.name})
    return JsonResponse({"items": names})


def fixed_reverse(request: HttpRequest) -> JsonResponse:
    """``/orm/n-plus-one/reverse/`` with the fix applied: ``prefetch_related('permission_set')``."""
    models = []
    for ct in ContentType.objects.order_by("id").prefetch_related("permission_set"):
        models.append([p.codename for p in ct.permission_set.all()])
    return JsonResponse({"models": models})


def different_sql_each_time(request: HttpRequest) -> JsonResponse:
    """A loop with a query per iteration, each a different statement: not N+1."""
    counts = {}
    for model in (Category, Item, ContentType, Permission, User, Group):
        counts[model.__name__] = model.objects.count()
    return JsonResponse(counts)


async def async_loop(request: HttpRequest) -> JsonResponse:
    """The async ORM in a loop: ``aget`` of each item's category (the N+1, awaited)."""
    names = []
    async for item in Item.objects.all():
        category = await Category.objects.aget(pk=item.category_id)
        names.append(category.name)
    return JsonResponse({"names": names})


urlpatterns = [
    *demo_urlpatterns,
    path("t/fixed/", fixed_n_plus_one),
    path("t/fixed-reverse/", fixed_reverse),
    path("t/different/", different_sql_each_time),
    path("t/async-loop/", async_loop),
]
