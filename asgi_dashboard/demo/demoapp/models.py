"""A tiny shop catalogue: enough rows for the ORM views to show real queries.

``Item.category`` is a foreign key on purpose: reading it in a loop without ``select_related`` is
the classic N+1 query pattern that ``/orm/n-plus-one/`` demonstrates.
"""

from __future__ import annotations

from django.db import models


class Category(models.Model):
    """A group of items, e.g. "Books"."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Something for sale, in exactly one category."""

    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="items")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
