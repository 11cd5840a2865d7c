"""Seed data: three categories and ten items, so the ORM views have something to list.

A data migration (not a fixture) so a fresh database is ready the moment the demo starts. It uses
the historical models from ``apps.get_model``, as data migrations must, so later model changes
cannot break it.
"""

from decimal import Decimal

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SEED: dict[str, list[tuple[str, str]]] = {
    "Books": [
        ("Two Scoops of Django", "39.95"),
        ("Fluent Python", "59.99"),
        ("Using Asyncio in Python", "34.50"),
        ("Architecture Patterns with Python", "44.00"),
    ],
    "Hardware": [
        ("Mechanical keyboard", "89.00"),
        ("USB-C hub", "24.90"),
        ("Laptop stand", "31.00"),
    ],
    "Stickers": [
        ("Django pony sticker", "2.50"),
        ("Python logo sticker", "1.99"),
        ("ASGI lifespan sticker", "3.25"),
    ],
}


def seed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    category_model = apps.get_model("demoapp", "Category")
    item_model = apps.get_model("demoapp", "Item")
    for category_name, items in SEED.items():
        category = category_model.objects.create(name=category_name)
        item_model.objects.bulk_create(
            item_model(name=name, price=Decimal(price), category=category) for name, price in items
        )


def unseed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Deleting the categories cascades to their items.
    apps.get_model("demoapp", "Category").objects.filter(name__in=SEED).delete()


class Migration(migrations.Migration):
    dependencies = [("demoapp", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
