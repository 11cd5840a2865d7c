"""The demo's HTTP views: each one shows a way of writing Django under ASGI, good or bad.

Sync views run on a worker thread (Django wraps them in ``sync_to_async(thread_sensitive=True)``,
see ``BaseHandler.get_response_async`` in ``django/core/handlers/base.py``), so the JSON reports
the thread's name. Async views run on the event loop itself (``MainThread`` under Uvicorn).

``?ms=N`` sets how long the sleep views sleep (default 1000, ``?ms=0`` answers at once).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.views import View

from .models import Category, Item

DEFAULT_SLEEP_MS = 1000
MAX_SLEEP_MS = 60_000


class BadSleepParameter(ValueError):
    """``?ms=`` was not an integer between 0 and MAX_SLEEP_MS."""


def _sleep_ms(request: HttpRequest) -> int:
    raw = request.GET.get("ms", str(DEFAULT_SLEEP_MS))
    try:
        ms = int(raw)
    except ValueError:
        raise BadSleepParameter(f"ms must be an integer, got {raw!r}") from None
    if not 0 <= ms <= MAX_SLEEP_MS:
        raise BadSleepParameter(f"ms must be between 0 and {MAX_SLEEP_MS}, got {ms}")
    return ms


def _bad_request(exc: BadSleepParameter) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=400)


def _slept(view: str, ms: int) -> JsonResponse:
    return JsonResponse({"view": view, "slept_ms": ms, "thread": threading.current_thread().name})


def _item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "price": str(item.price),
        "category": item.category.name,
    }


def home(request: HttpRequest) -> HttpResponse:
    """The living tutorial: every demo URL with why it exists."""
    return render(request, "demoapp/home.html")


# --- Sleeping views: the same work, written four ways ---------------------------------------


def sync_view(request: HttpRequest) -> JsonResponse:
    """Sync function view: blocks its worker thread, never the event loop."""
    try:
        ms = _sleep_ms(request)
    except BadSleepParameter as exc:
        return _bad_request(exc)
    time.sleep(ms / 1000)
    return _slept("sync", ms)


async def async_view(request: HttpRequest) -> JsonResponse:
    """Async function view: ``await asyncio.sleep`` yields the loop to other requests."""
    try:
        ms = _sleep_ms(request)
    except BadSleepParameter as exc:
        return _bad_request(exc)
    await asyncio.sleep(ms / 1000)
    return _slept("async", ms)


class SyncSleepView(View):
    """Sync class-based view: Django runs ``get`` on a worker thread, as for sync functions."""

    def get(self, request: HttpRequest) -> JsonResponse:
        try:
            ms = _sleep_ms(request)
        except BadSleepParameter as exc:
            return _bad_request(exc)
        time.sleep(ms / 1000)
        return _slept("cbv-sync", ms)


class AsyncSleepView(View):
    """Async class-based view: all handlers ``async def``, so ``as_view()`` returns a coroutine
    function and Django awaits it on the loop (``View.view_is_async``)."""

    async def get(self, request: HttpRequest) -> JsonResponse:
        try:
            ms = _sleep_ms(request)
        except BadSleepParameter as exc:
            return _bad_request(exc)
        await asyncio.sleep(ms / 1000)
        return _slept("cbv-async", ms)


# --- ORM: the right ways and two classic mistakes --------------------------------------------


def orm_sync(request: HttpRequest) -> JsonResponse:
    """Sync view listing items: plain ORM, on Django's worker thread."""
    items = [_item_json(item) for item in Item.objects.select_related("category")]
    return JsonResponse({"view": "orm-sync", "count": len(items), "items": items})


def _items_per_category() -> dict[str, int]:
    # Ordinary sync ORM code, e.g. an existing helper or a third-party function. Called from
    # async code through sync_to_async, it runs on Django's thread-sensitive worker thread.
    return dict(
        Category.objects.annotate(item_count=Count("items")).values_list("name", "item_count")
    )


async def orm_async(request: HttpRequest) -> JsonResponse:
    """Async view using the ORM the two right ways.

    1. The async ORM API (``aget``, ``acount``, ``async for``): Django still runs each query on
       a worker thread (database drivers are sync), but the view stays readable.
    2. ``sync_to_async`` around a sync function: the right tool for existing sync code, and
       cheaper than the async API when one function makes several queries, because the whole
       function hops to the thread once instead of once per query.
    """
    # 1. async ORM API
    count = await Item.objects.acount()
    first = await Item.objects.select_related("category").order_by("id").afirst()
    first_category = None
    if first is not None:
        # aget raises DoesNotExist like get(); here the row certainly exists.
        category = await Category.objects.aget(pk=first.category_id)
        first_category = category.name
    items = [_item_json(item) async for item in Item.objects.select_related("category")]
    # 2. sync_to_async around sync ORM code
    per_category = await sync_to_async(_items_per_category)()
    return JsonResponse(
        {
            "view": "orm-async",
            "count": count,
            "first_category": first_category,
            "items_per_category": per_category,
            "items": items,
        }
    )


async def orm_unsafe(request: HttpRequest) -> JsonResponse:
    """DELIBERATE BUG: sync ORM call inside an async view.

    Django refuses to run a query on the event loop's thread (it would block every other
    request) and raises ``SynchronousOnlyOperation``, so this URL always answers 500.
    Fix: ``await Item.objects.acount()`` or ``await sync_to_async(Item.objects.count)()``.
    """
    count = Item.objects.count()  # raises SynchronousOnlyOperation: on purpose
    return JsonResponse({"view": "orm-unsafe", "count": count})


def orm_n_plus_one(request: HttpRequest) -> JsonResponse:
    """DELIBERATE INEFFICIENCY: one query for the items, then one more per item (N+1).

    ``item.category`` is not loaded with the items, so each access runs its own query.
    Fix: ``Item.objects.select_related("category")`` (one JOINed query), as ``/orm/sync/`` does.
    """
    queries_before = len(connection.queries)
    names = []
    for item in Item.objects.all():  # 1 query ...
        names.append({"item": item.name, "category": item.category.name})  # ... + 1 per item
    # connection.queries is only recorded with DEBUG = True (as in this demo); None otherwise.
    queries = len(connection.queries) - queries_before if connection.queries_logged else None
    return JsonResponse(
        {"view": "orm-n-plus-one", "count": len(names), "queries": queries, "items": names}
    )


def orm_n_plus_one_reverse(request: HttpRequest) -> JsonResponse:
    """DELIBERATE INEFFICIENCY: the reverse side of a foreign key read in a loop (N+1).

    Each content type's permissions (``Permission.content_type`` points at ``ContentType``, so
    ``ct.permission_set`` is the reverse accessor): one query per content type.
    Fix: ``ContentType.objects.prefetch_related("permission_set")`` (two queries in all).
    """
    models = []
    for ct in ContentType.objects.order_by("id"):  # 1 query ...
        codenames = [p.codename for p in ct.permission_set.all()]  # ... + 1 per content type
        models.append({"model": f"{ct.app_label}.{ct.model}", "permissions": codenames})
    return JsonResponse({"view": "orm-n-plus-one-reverse", "count": len(models), "models": models})


ITEMS_PER_PAGE = 4


def orm_paginated(request: HttpRequest) -> JsonResponse:
    """A paginated list, done right: ``Paginator`` counts the rows, then reads one page (two
    queries, whatever the page size); ``select_related`` brings each item's category along."""
    paginator = Paginator(Item.objects.select_related("category"), ITEMS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return JsonResponse(
        {
            "view": "orm-paginated",
            "page": page.number,
            "pages": paginator.num_pages,
            "items": [_item_json(item) for item in page],
        }
    )


def orm_categories(request: HttpRequest) -> JsonResponse:
    """A short loop with a query per category: three of them, below asgi-dash's N+1 threshold
    (5: ``--n-plus-one``). ``annotate(Count("items"))`` would make it one query."""
    counts = {c.name: c.items.count() for c in Category.objects.all()}
    return JsonResponse({"view": "orm-categories", "items": counts})


# --- Templates, errors, the blocked loop, chat ------------------------------------------------


def template_view(request: HttpRequest) -> TemplateResponse:
    """A ``TemplateResponse``: rendered late, after middleware, on the worker thread."""
    items = Item.objects.select_related("category")
    return TemplateResponse(request, "demoapp/items.html", {"items": items})


def error_view(request: HttpRequest) -> HttpResponse:
    """Raise on purpose, to see how asgi-dash shows a traceback (Django answers 500)."""
    raise RuntimeError("Deliberate error to show tracebacks in asgi-dash")


async def blocking_view(request: HttpRequest) -> JsonResponse:
    """DELIBERATE BUG: a blocking call inside an async view freezes the whole event loop.

    While ``time.sleep`` runs, no other request, WebSocket frame or async view makes progress on
    this server. asgi-dash's blocked-loop detector points at the line below.
    Fix: ``await asyncio.sleep(...)``, or move blocking work to ``sync_to_async``.
    """
    try:
        ms = _sleep_ms(request)
    except BadSleepParameter as exc:
        return _bad_request(exc)
    time.sleep(ms / 1000)  # BUG on purpose: blocks the event loop
    return _slept("blocking", ms)


async def cpu_view(request: HttpRequest) -> JsonResponse:
    """CPU-bound work on the event loop (``?n=`` rounds, default 20000: a few ms), what
    ``asgi-dash --workers N`` spreads over N processes (bench/workers.py measures it)."""
    try:
        n = max(0, min(int(request.GET.get("n", "20000")), 5_000_000))
    except ValueError:
        return JsonResponse({"error": "n must be an integer"}, status=400)
    digest = 0
    for i in range(n):
        digest = (digest * 31 + i) % 1_000_003
    return JsonResponse({"view": "cpu", "n": n, "digest": digest})


def chat_room(request: HttpRequest, room: str) -> HttpResponse:
    """A chat page whose script talks to ``/ws/chat/<room>/``."""
    return render(request, "demoapp/chat.html", {"room": room})
