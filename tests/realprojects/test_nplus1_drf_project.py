"""N+1 in a real Django REST framework project: a serializer that reads a relation per row.

The generated DRF project's ``ItemSerializer`` has ``CharField(source="category.name")`` and its
viewset's queryset is ``Item.objects.all()``: listing six items is one query for the items and one
per item for its category, issued by DRF's code (no project line on the stack). asgi-dash (a real
server, ``--headless --json``) must flag it with ``Item.objects.select_related('category')``; with
that fix written into the project's ``views.py``, the flag goes and the list is one statement
(plus the transaction's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import PY, Project, _run, copy_project, launch_asgi_dash

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KIND = "drf"
ITEMS = 6
SEED = (
    "from shop.models import Category, Item; "
    "cats = [Category.objects.create(name=n) for n in ('tea', 'pots')]; "
    f"[Item.objects.create(name=f'item {{i}}', price='1.00', category=cats[i % 2]) "
    f"for i in range({ITEMS})]"
)


async def _list_items(project_dir: Path) -> dict[str, Any]:
    """Serve the project, GET /api/items/ once, and return its request event."""
    run = await launch_asgi_dash(project_dir)
    try:
        started = await run.wait_event("server-started", timeout=60)
        async with httpx.AsyncClient(base_url=started["url"], timeout=30) as client:
            response = await client.get("/api/items/")
        assert response.status_code == 200 and len(response.json()) == ITEMS
        return await run.wait_event("request", timeout=30, path="/api/items/")
    finally:
        if run.process.returncode is None:
            await run.stop()


async def test_a_serializer_n_plus_one_gets_select_related(
    make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    project_dir = copy_project(make_project(KIND), tmp_path / "drf")
    _run([PY, "manage.py", "shell", "-c", SEED], cwd=project_dir)

    event = await _list_items(project_dir)
    (found,) = event["n_plus_one"]
    assert found["count"] == ITEMS
    assert found["queryset_model"] == "shop.Item" and found["model"] == "shop.Category"
    assert found["relation"] == "category" and found["fix"] == "select_related('category')"

    # The fix, as the dashboard says it, written into the project: the flag goes.
    views = project_dir / "shop" / "views.py"
    text = views.read_text()
    assert "queryset = Item.objects.all()" in text
    views.write_text(
        text.replace(
            "queryset = Item.objects.all()", "queryset = Item.objects.select_related('category')"
        )
    )
    fixed = await _list_items(project_dir)
    # (ATOMIC_REQUESTS is on in this project: BEGIN and COMMIT are counted too.)
    assert fixed["n_plus_one"] == [] and fixed["sql_count"] == event["sql_count"] - ITEMS
