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

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .events import FrameInfo, SqlQuery

_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_NUMBER_RE = re.compile(r"\b\d+(?:\.\d+)?\b")
_IN_LIST_RE = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_PLACEHOLDER_RE = re.compile(r"%s|%\(\w+\)s")
_TRANSACTION_RE = re.compile(
    r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE\s+SAVEPOINT|START\s+TRANSACTION|END)\b",
    re.IGNORECASE,
)


def sql_shape(sql: str) -> str:
    """The statement with literals and placeholders replaced by ``?``: equal shapes mean
    "the same query"."""
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


__all__ = [
    "NO_REPEATS",
    "RepeatGroup",
    "Repeats",
    "is_transaction_statement",
    "repeat_groups",
    "repeats",
    "sql_shape",
]
