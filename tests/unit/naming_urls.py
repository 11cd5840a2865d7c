"""A URLconf with one view of each kind, for the naming rules: real framework objects
(django-ninja ``NinjaAPI`` operations, DRF ``@api_view`` and a routed ``ViewSet``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Router
from rest_framework import routers, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


async def coroutine(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@login_required  # type: ignore[untyped-decorator]  # Django ships no types
@csrf_exempt  # type: ignore[untyped-decorator]
def decorated(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class SyncCBV(View):  # type: ignore[misc]  # Django ships no types
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


class AsyncCBV(View):  # type: ignore[misc]
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


class BookViewSet(viewsets.ViewSet):  # type: ignore[misc]  # DRF ships no types
    def list(self, request: HttpRequest) -> Response:
        return Response([])

    def create(self, request: HttpRequest) -> Response:
        return Response({})

    def retrieve(self, request: HttpRequest, pk: str | None = None) -> Response:
        return Response({})


def _with_greeting(request: HttpRequest, greeting: str) -> HttpResponse:
    return HttpResponse(greeting)


@api_view(["GET", "POST"])  # type: ignore[untyped-decorator]  # DRF ships no types
def drf_function(request: HttpRequest) -> Response:
    return Response({"ok": True})


@api_view()  # type: ignore[untyped-decorator]
def drf_default_get(request: HttpRequest) -> Response:
    return Response({})


def _closure_factory() -> Callable[[HttpRequest], HttpResponse]:
    def generated(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    return generated


ninja_api = NinjaAPI(urls_namespace="naming-api")
ninja_items = Router()


@ninja_api.get("/things")
def list_things(request: HttpRequest) -> list[int]:
    return []


@ninja_api.post("/things")
async def create_thing(request: HttpRequest) -> dict[str, int]:
    return {"id": 1}


@ninja_api.get("/sync-only/{int:pk}", url_name="sync-only")
def get_sync_only(request: HttpRequest, pk: int) -> dict[str, int]:
    return {"pk": pk}


@ninja_items.get("/{int:pk}")
async def get_item(request: HttpRequest, pk: int) -> dict[str, int]:
    return {"pk": pk}


@ninja_items.delete("/{int:pk}")
def delete_item(request: HttpRequest, pk: int) -> dict[str, int]:
    return {"deleted": pk}


ninja_api.add_router("/items", ninja_items)

router = routers.SimpleRouter()
router.register("books", BookViewSet, basename="book")

urlpatterns = [
    path("plain/", plain, name="plain"),
    path("coroutine/", coroutine),
    path("decorated/", decorated),
    path("cbv/sync/<int:pk>/", SyncCBV.as_view(), name="sync-cbv"),
    path("cbv/async/", AsyncCBV.as_view()),
    path("partial/", functools.partial(_with_greeting, greeting="hi")),
    path("admin/", admin.site.urls),
    path("api/", include(router.urls)),
    path("drf/function/", drf_function, name="drf-function"),
    path("drf/default/", drf_default_get),
    path("closure/", _closure_factory(), name="closure"),
    path("closure-unnamed/", _closure_factory()),
    path("ns/", include(([path("closure/", _closure_factory(), name="inner")], "outer"))),
    path("ninja/", ninja_api.urls),
]
