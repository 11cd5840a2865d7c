"""Repeated SQL in one request: *identical* statements versus *similar* ones.

* **Identical**: the same SQL with the same parameters. The database did the same work twice:
  a cache opportunity (or a value fetched again instead of passed along).
* **Similar**: the same SQL with other parameters, e.g. ``SELECT ... WHERE id = %s`` once per
  row of a loop: the N+1 pattern (one query for the rows, then one more per row).

"The same SQL" is the same *shape*: the statement with inline literals replaced by ``?`` and
``IN (...)`` lists of any length folded, so ``prefetch``-style lists and hand-written literals
group too. Transaction statements (``BEGIN``, ``COMMIT``, ``SAVEPOINT "s1_x2"`` ...) are never
repeats: two ``atomic`` blocks are not a cache opportunity.

Statements recorded before parameters were (older recordings: ``params`` empty) can only be
judged on their text, as before. No Textual, no Django: the detail screen and anything else that
judges repeats use these functions.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .events import FrameInfo, NPlusOne, SqlQuery

_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_NUMBER_RE = re.compile(r"\b\d+(?:\.\d+)?\b")
_IN_LIST_RE = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_PLACEHOLDER_RE = re.compile(r"%s|%\(\w+\)s")
_TRANSACTION_RE = re.compile(
    r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT|START\s+TRANSACTION|END)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def sql_shape(sql: str) -> str:
    """The statement with literals and placeholders replaced by ``?``: equal shapes mean
    "the same query". Cached: an application issues a bounded set of statements, and the N+1
    check (:func:`loop_groups`) shapes each statement of a request once it finishes."""
    shape = _PLACEHOLDER_RE.sub("?", sql)
    shape = _STRING_RE.sub("?", shape)
    shape = _NUMBER_RE.sub("?", shape)
    shape = _IN_LIST_RE.sub("(?)", shape)
    return " ".join(shape.split())


def is_transaction_statement(sql: str) -> bool:
    """``BEGIN``, ``COMMIT``, ``ROLLBACK`` (to a savepoint too), ``SAVEPOINT``, ``RELEASE``."""
    return _TRANSACTION_RE.match(sql) is not None


@dataclass(frozen=True, slots=True)
class Repeats:
    """How often one statement's SQL occurs in its request (itself included)."""

    #: Statements with the same SQL shape (1: none like it).
    similar: int = 1
    #: Statements with the same SQL and the same parameters (1: none identical).
    identical: int = 1
    #: Distinct parameter sets among the similar statements.
    variants: int = 1


NO_REPEATS = Repeats()


def _identity(query: SqlQuery) -> tuple[str, tuple[str, ...]]:
    return (query.sql, query.params)


def repeats(queries: Sequence[SqlQuery]) -> list[Repeats]:
    """For each statement (same order), how many are similar and identical to it."""
    shapes = [None if is_transaction_statement(q.sql) else sql_shape(q.sql) for q in queries]
    by_shape = Counter(s for s in shapes if s is not None)
    exact = Counter(_identity(q) for q, s in zip(queries, shapes, strict=True) if s is not None)
    variants: dict[str, set[tuple[str, tuple[str, ...]]]] = defaultdict(set)
    for q, s in zip(queries, shapes, strict=True):
        if s is not None and by_shape[s] > 1:
            variants[s].add(_identity(q))
    out = []
    for q, s in zip(queries, shapes, strict=True):
        if s is None or by_shape[s] == 1:
            out.append(NO_REPEATS)
        else:
            out.append(Repeats(by_shape[s], exact[_identity(q)], len(variants[s])))
    return out


@dataclass(frozen=True, slots=True)
class RepeatGroup:
    """Statements of one request that share their SQL: the headline of the SQL tab."""

    shape: str
    #: How many statements share the SQL, and how many distinct parameter sets they have.
    similar: int
    variants: int
    #: The largest number of them that are identical (same parameters).
    identical: int
    #: Where the project issued them (the first one's issuing line), if known.
    source: FrameInfo | None

    @property
    def all_identical(self) -> bool:
        return self.variants == 1


def repeat_groups(queries: Sequence[SqlQuery]) -> list[RepeatGroup]:
    """The groups of repeated SQL, most repeated first (ties: first seen first)."""
    marks = repeats(queries)
    groups: dict[str, RepeatGroup] = {}
    for query, mark in zip(queries, marks, strict=True):
        if mark.similar == 1:
            continue
        shape = sql_shape(query.sql)
        seen = groups.get(shape)
        if seen is None:
            groups[shape] = RepeatGroup(
                shape, mark.similar, mark.variants, mark.identical, query.source
            )
        elif mark.identical > seen.identical or (seen.source is None and query.source):
            groups[shape] = RepeatGroup(
                shape,
                seen.similar,
                seen.variants,
                max(seen.identical, mark.identical),
                seen.source or query.source,
            )
    return sorted(groups.values(), key=lambda g: -g.similar)


@dataclass(frozen=True, slots=True)
class LoopGroup:
    """Statements of one request with the same SQL shape issued from the same project line
    (the N+1 pattern when there are many: the loop's body runs one query per row)."""

    shape: str
    #: The issuing line shared by all of them (None: only library code was on the stack).
    source: FrameInfo | None
    #: Positions of the statements in the request's list, in order.
    indexes: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.indexes)


@functools.lru_cache(maxsize=4096)
def _loop_shape(sql: str) -> str | None:
    """The statement's shape, None for a transaction statement (cached: the check runs on every
    request with enough statements, ~0.2 µs per statement when cached, ~2 µs when not)."""
    return None if is_transaction_statement(sql) else sql_shape(sql)


def loop_groups(queries: Sequence[SqlQuery], threshold: int) -> list[LoopGroup]:
    """Groups of at least ``threshold`` similar statements issued from one line, most first.

    *Similar*, not identical: a group whose statements all have the same SQL and parameters is
    the same value fetched again (a cache opportunity, see :func:`repeats`), not a query per
    row. ``threshold`` 0 (or less) turns the check off; 1 counts as 2 (one statement is no loop).
    """
    if threshold <= 0:
        return []
    threshold = max(2, threshold)
    if len(queries) < threshold:
        return []
    # Most requests repeat nothing that often: one pass in C (Counter over the cached shapes)
    # says so before any grouping by line.
    shapes = Counter(map(_loop_shape, [q.sql for q in queries]))
    shapes.pop(None, None)
    if not shapes or max(shapes.values()) < threshold:
        return []
    by_key: dict[tuple[str, tuple[str, int] | None], list[int]] = defaultdict(list)
    for index, query in enumerate(queries):
        shape = _loop_shape(query.sql)
        if shape is not None:
            source = query.source
            by_key[(shape, None if source is None else (source.filename, source.lineno))].append(
                index
            )
    found = []
    for (shape, _), indexes in by_key.items():
        if len(indexes) < threshold:
            continue
        first = queries[indexes[0]]
        if all(_identity(queries[i]) == _identity(first) for i in indexes):
            continue
        found.append(LoopGroup(shape, first.source, tuple(indexes)))
    return sorted(found, key=lambda g: -g.count)


def short_location(frame: FrameInfo) -> str:
    """``app/views.py:42``: the last two path parts are enough to find the line."""
    parts = frame.filename.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{frame.lineno}"


def n_plus_one_fix(found: NPlusOne) -> str | None:
    """The fix as code: ``Item.objects.select_related('category')``; None if not derived."""
    if found.fix is None:
        return None
    model = (found.queryset_model or "").rpartition(".")[2]
    return f"{model}.objects.{found.fix}" if model else found.fix


def n_plus_one_text(found: NPlusOne) -> str:
    """One line: ``N+1: 10 queries from demoapp/views.py:184 — use
    Item.objects.select_related('category')`` (headless, the detail screen)."""
    where = short_location(found.source) if found.source else "library code"
    text = f"N+1: {found.count} queries from {where}"
    fix = n_plus_one_fix(found)
    if fix is not None:
        return f"{text} — use {fix}"
    verb = found.shape.lstrip().split(" ", 1)[0].upper()
    return f"{text} — {_BULK.get(verb, _BULK['SELECT'])}"


#: What to do about a loop with no relation found, by the repeated statement's verb.
_BULK = {
    "SELECT": "fetch them in one query (select_related / prefetch_related, or pk__in=[...])",
    "INSERT": "create them in one statement: bulk_create()",
    "UPDATE": "update them together: bulk_update() or queryset.update()",
    "DELETE": "delete them together: filter(...).delete()",
}


__all__ = [
    "NO_REPEATS",
    "LoopGroup",
    "RepeatGroup",
    "Repeats",
    "is_transaction_statement",
    "loop_groups",
    "n_plus_one_fix",
    "n_plus_one_text",
    "repeat_groups",
    "repeats",
    "short_location",
    "sql_shape",
]
