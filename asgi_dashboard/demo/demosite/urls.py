"""URLconf of the demo. The home page (``/``) explains why each of these exists."""

from __future__ import annotations

from demoapp import api, hops, views
from django.contrib import admin
from django.urls import path

urlpatterns = [
    path("", views.home, name="home"),
    path("sync/", views.sync_view, name="sync"),
    path("async/", views.async_view, name="async"),
    path("cbv/sync/", views.SyncSleepView.as_view(), name="cbv-sync"),
    path("cbv/async/", views.AsyncSleepView.as_view(), name="cbv-async"),
    path("orm/sync/", views.orm_sync, name="orm-sync"),
    path("orm/async/", views.orm_async, name="orm-async"),
    path("orm/unsafe/", views.orm_unsafe, name="orm-unsafe"),
    path("orm/n-plus-one/", views.orm_n_plus_one, name="orm-n-plus-one"),
    path("orm/n-plus-one/reverse/", views.orm_n_plus_one_reverse, name="orm-n-plus-one-reverse"),
    path("orm/paginated/", views.orm_paginated, name="orm-paginated"),
    path("orm/categories/", views.orm_categories, name="orm-categories"),
    path("fanout/", api.fanout, name="fanout"),
    path("api/data1/", api.data1, name="api-data1"),
    path("api/data2/", api.data2, name="api-data2"),
    path("template/", views.template_view, name="template"),
    path("error/", views.error_view, name="error"),
    path("blocking/", views.blocking_view, name="blocking"),
    path("cpu/", views.cpu_view, name="cpu"),
    path("hops/", hops.hops_page, name="hops"),
    path("chat/<slug:room>/", views.chat_room, name="chat"),
    path("admin/", admin.site.urls),
]
