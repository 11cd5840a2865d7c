"""N+1 queries, with their fix: which relation a loop follows, from the SQL and Django's models.

When a request issued one SQL shape from one project line at least :data:`threshold` times
(``sqlgroups.loop_groups``, the one place that decides "the same query"), the repeated statement
says which table and column it filters on, and an earlier statement of the request says which
rows the loop walks (its ``FROM`` table). Django's models tell what links them:

* a forward ``ForeignKey``/``OneToOneField`` of the earlier model pointing at the repeated
  statement's table on that column (``item.category`` for each item: ``WHERE category.id = %s``)
  -> ``select_related('category')``;
* a ``ForeignKey`` of the repeated statement's model pointing back at the earlier model
  (``category.items.all()`` for each category: ``WHERE item.category_id = %s``)
  -> ``prefetch_related('items')``; a reverse one-to-one -> ``select_related``;
* a ``ManyToManyField``'s join table (``item.tags.all()``: ``WHERE item_tags.item_id = %s``),
  either side -> ``prefetch_related('tags')``.

A loop that counts (``SELECT COUNT(*) ... WHERE item.category_id = %s``) is fixed the same way:
a prefetched manager's ``count()`` reads the cache, ``annotate(Count(...))`` being the other fix.

Runs in the server process when a request finishes (:func:`find`, called by the ASGI tap), only
when the request has enough statements to cross the threshold; the derivation is cached per
(repeated table, column, earlier table), so a view that does it on every request pays for it once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from ..events import NPlusOne, SqlQuery
from ..sqlgroups import LoopGroup, is_transaction_statement, loop_groups

#: Statements of one shape from one line that make an N+1 (``--n-plus-one``; 0 turns it off).
DEFAULT_THRESHOLD = 5
threshold = DEFAULT_THRESHOLD
#: Statements before the loop searched for the query whose rows it walks.
_LOOKBACK = 32

_NAME = r'[`"\[]?(\w+)[`"\]]?'
_FROM_RE = re.compile(r"\bFROM\s+" + _NAME, re.IGNORECASE)
_WHERE_RE = re.compile(
    r"\bWHERE\s+\(*\s*" + _NAME + r"\s*\.\s*" + _NAME + r"\s*(?:=|\bIN\b)", re.IGNORECASE
)

#: (method, relation name, the model of the queryset to change, the repeated model).
Relation = tuple[str, str, Any, Any]


def configure(n: int) -> None:
    """Set the threshold for this process (``--n-plus-one N``; 0 disables the check)."""
    global threshold
    threshold = n


@functools.lru_cache(maxsize=1024)
def from_table(sql: str) -> str | None:
    """The first table after ``FROM`` (unquoted), if any."""
    match = _FROM_RE.search(sql)
    return match.group(1) if match else None


@functools.lru_cache(maxsize=1024)
def where_column(sql: str) -> tuple[str, str] | None:
    """The first ``table.column`` the ``WHERE`` clause compares (``=`` or ``IN``), if any."""
    match = _WHERE_RE.search(sql)
    return (match.group(1), match.group(2)) if match else None


_tables: dict[str, Any] = {}


def _models_by_table() -> dict[str, Any]:
    """``db_table`` -> model, for every installed model (join tables included), read once the
    app registry is ready."""
    if not _tables:
        from django.apps import apps

        if apps.ready:
            for model in apps.get_models(include_auto_created=True):
                _tables.setdefault(model._meta.db_table, model)
    return _tables


def _is_a(model: Any, other: Any) -> bool:
    return isinstance(other, type) and isinstance(model, type) and issubclass(model, other)


def _hidden(rel: Any) -> bool:
    """A reverse relation with no accessor (``related_name`` ending in ``+``): ``rel.hidden``
    since Django 5.1, ``rel.is_hidden()`` before."""
    hidden = getattr(rel, "hidden", None)
    return bool(rel.is_hidden() if hidden is None else hidden)


def _forward(earlier: Any, table: str, column: str) -> Relation | None:
    """A foreign key or one-to-one of ``earlier`` whose target is ``table.column``."""
    for field in earlier._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or field.related_model is None:
            continue
        target = field.related_model
        if target._meta.db_table == table and field.target_field.column == column:
            return ("select_related", field.name, earlier, target)
    return None


def _reverse(earlier: Any, model: Any, column: str) -> Relation | None:
    """A foreign key of ``model`` on ``column`` pointing back at ``earlier``."""
    for field in model._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or field.column != column:
            continue
        if not _is_a(earlier, field.related_model) or _hidden(field.remote_field):
            continue
        method = "select_related" if field.one_to_one else "prefetch_related"
        return (method, field.remote_field.get_accessor_name(), earlier, model)
    return None


def _many_to_many(earlier: Any, table: str, column: str) -> Relation | None:
    """A many-to-many whose join table is ``table``, read from ``earlier``'s side."""
    for model in _models_by_table().values():
        for field in model._meta.local_many_to_many:
            # The join model (a class once the registry is ready: a string before).
            meta = getattr(field.remote_field.through, "_meta", None)
            if meta is None or meta.db_table != table:
                continue
            if field.m2m_column_name() == column and _is_a(earlier, field.model):
                return ("prefetch_related", field.name, earlier, field.related_model)
            if field.m2m_reverse_name() == column and _is_a(earlier, field.related_model):
                if _hidden(field.remote_field):
                    return None
                accessor = field.remote_field.get_accessor_name()
                return ("prefetch_related", accessor, earlier, field.model)
    return None


@functools.lru_cache(maxsize=1024)
def relation(table: str, column: str, earlier_table: str) -> Relation | None:
    """What links the rows of ``earlier_table`` to a query filtering on ``table.column``."""
    models = _models_by_table()
    earlier = models.get(earlier_table)
    if earlier is None:  # (never cached before the registry is ready: no request runs then)
        return None
    model = models.get(table)
    if model is not None:
        found = _forward(earlier, table, column) or _reverse(earlier, model, column)
        if found is not None:
            return found
    return _many_to_many(earlier, table, column)


def _label(model: Any) -> str:
    return str(model._meta.label)


def describe(group: LoopGroup, queries: Sequence[SqlQuery]) -> NPlusOne:
    """The N+1 value of one loop group, with the fix when an earlier statement explains it."""
    first = group.indexes[0]
    target = where_column(queries[first].sql)
    found = None
    if target is not None:
        seen: set[str] = set()
        for earlier in reversed(queries[max(0, first - _LOOKBACK) : first]):
            table = None if is_transaction_statement(earlier.sql) else from_table(earlier.sql)
            if table is None or table in seen:
                continue
            seen.add(table)
            found = relation(target[0], target[1], table)
            if found is not None:
                break
    if found is None:
        model = _models_by_table().get(target[0]) if target else None
        return NPlusOne(
            group.count, group.shape, group.source, model=_label(model) if model else None
        )
    method, name, queryset_model, model = found
    return NPlusOne(
        group.count,
        group.shape,
        group.source,
        model=_label(model),
        queryset_model=_label(queryset_model),
        relation=name,
        fix=f"{method}('{name}')",
    )


def find(queries: Sequence[SqlQuery], n: int | None = None) -> tuple[NPlusOne, ...]:
    """The N+1 patterns among a request's statements (``n``: the threshold, else the process's).

    Never raises: a project whose models cannot be read gets the patterns without a fix.
    """
    groups = loop_groups(queries, threshold if n is None else n)
    if not groups:
        return ()
    out = []
    for group in groups:
        try:
            out.append(describe(group, queries))
        except Exception:  # a model registry in a strange state: the flag without the fix
            out.append(NPlusOne(group.count, group.shape, group.source))
    return tuple(out)


__all__ = ["DEFAULT_THRESHOLD", "configure", "describe", "find", "from_table", "relation"]
