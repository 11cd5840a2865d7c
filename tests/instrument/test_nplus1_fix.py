"""The fix derived from recorded statements and the real models (the demo's and Django's auth):
each kind of relation a loop can follow, the SQL as Django compiles it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from asgi_dashboard.events import FrameInfo, SqlQuery
from asgi_dashboard.instrument.nplus1 import find
from asgi_dashboard.runtime.bootstrap import LoadedProject

LIST_LINE = FrameInfo("/p/app/views.py", 10, "view")
LOOP = FrameInfo("/p/app/views.py", 12, "view")


def _query(qs: Any, source: FrameInfo) -> SqlQuery:
    sql, params = qs.query.sql_with_params()
    return SqlQuery(sql, 1000, params=tuple(map(repr, params)), source=source)


def recorded(rows: Any, per_row: Callable[[int], Any], n: int = 6) -> list[SqlQuery]:
    """The list query, then one query per row from the loop's line."""
    return [_query(rows, LIST_LINE)] + [_query(per_row(pk), LOOP) for pk in range(1, n + 1)]


def _cases() -> dict[str, tuple[Any, Callable[[int], Any]]]:
    from demoapp.models import Category, Item
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType

    return {
        "forward FK": (Item.objects.all(), lambda pk: Category.objects.filter(pk=pk)[:21]),
        "forward FK (auth)": (
            Permission.objects.all(),
            lambda pk: ContentType.objects.filter(pk=pk)[:21],
        ),
        "reverse FK": (Category.objects.all(), lambda pk: Category(pk=pk).items.all()),
        "reverse FK count": (
            Category.objects.all(),
            lambda pk: Item.objects.filter(category_id=pk).values("pk"),
        ),
        "forward M2M": (User.objects.all(), lambda pk: User(pk=pk).groups.all()),
        "reverse M2M": (Group.objects.all(), lambda pk: Group(pk=pk).user_set.all()),
    }


EXPECTED = {
    "forward FK": ("demoapp.Item", "demoapp.Category", "select_related('category')"),
    "forward FK (auth)": (
        "auth.Permission",
        "contenttypes.ContentType",
        "select_related('content_type')",
    ),
    "reverse FK": ("demoapp.Category", "demoapp.Item", "prefetch_related('items')"),
    "reverse FK count": ("demoapp.Category", "demoapp.Item", "prefetch_related('items')"),
    "forward M2M": ("auth.User", "auth.Group", "prefetch_related('groups')"),
    "reverse M2M": ("auth.Group", "auth.User", "prefetch_related('user_set')"),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_kind_of_relation_gets_its_fix(loaded: LoadedProject, case: str) -> None:
    rows, per_row = _cases()[case]
    (found,) = find(recorded(rows, per_row), 5)
    assert (found.queryset_model, found.model, found.fix) == EXPECTED[case]
    assert found.count == 6 and found.source == LOOP


def test_the_list_query_is_found_past_other_statements(loaded: LoadedProject) -> None:
    from demoapp.models import Category, Item
    from django.contrib.sessions.models import Session

    rows, per_row = Item.objects.all(), lambda pk: Category.objects.filter(pk=pk)[:21]
    queries = recorded(rows, per_row)
    # Statements between the list and the loop (a session read, a savepoint) are passed over.
    queries[1:1] = [
        _query(Session.objects.filter(session_key="x"), LIST_LINE),
        SqlQuery('SAVEPOINT "s1_x1"', 10),
    ]
    (found,) = find(queries, 5)
    assert found.fix == "select_related('category')"


def test_without_the_list_query_the_flag_stays_without_a_fix(loaded: LoadedProject) -> None:
    from demoapp.models import Category, Item

    queries = recorded(Item.objects.all(), lambda pk: Category.objects.filter(pk=pk)[:21])[1:]
    (found,) = find(queries, 5)
    assert found.count == 6 and found.fix is None and found.relation is None
    assert found.model == "demoapp.Category"


def test_raw_sql_on_unknown_tables_is_flagged_without_a_fix(loaded: LoadedProject) -> None:
    queries = [SqlQuery('SELECT * FROM "legacy"', 1, source=LIST_LINE)] + [
        SqlQuery('SELECT * FROM "other" WHERE "other"."id" = %s', 1, params=(str(i),), source=LOOP)
        for i in range(5)
    ]
    (found,) = find(queries, 5)
    assert (found.count, found.fix, found.model) == (5, None, None)
