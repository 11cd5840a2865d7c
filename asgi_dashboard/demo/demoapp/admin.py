"""Admin registrations, so the seed data can be browsed and edited at /admin/."""

from __future__ import annotations

from django.contrib import admin

from .models import Category, Item


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "price", "category"]
    list_filter = ["category"]
    search_fields = ["name"]
    # The change list shows the category of every row: join it in the same query instead of
    # doing one extra query per row (the admin's own N+1 trap).
    list_select_related = ["category"]
