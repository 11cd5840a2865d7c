"""A URLconf with one view of each kind, for the naming rules."""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework import routers, viewsets
from rest_framework.response import Response


def plain(request):
    return HttpResponse("ok")


async def coroutine(request):
    return HttpResponse("ok")


@login_required
@csrf_exempt
def decorated(request):
    return HttpResponse("ok")


class SyncCBV(View):
    def get(self, request):
        return HttpResponse("ok")


class AsyncCBV(View):
    async def get(self, request):
        return HttpResponse("ok")


class BookViewSet(viewsets.ViewSet):
    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({})

    def retrieve(self, request, pk=None):
        return Response({})


def _with_greeting(request, greeting):
    return HttpResponse(greeting)


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
]
