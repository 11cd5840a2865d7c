"""The request-log filter language: parse a line of text into a predicate over log rows.

Grammar (whitespace separates terms; every term must match, i.e. terms are ANDed)::

    expression := term ( " " term )*
    term       := [ "-" | "!" ] ( field ":" value | flag | text )
    field      := "status" | "kind" | "view" | "method" | "path" | "slow" | "sql"
    flag       := "ws" | "error" | "n+1" | "layer"
    text       := word | '"' any text '"'

Terms:

==================  ===========================================================================
``text``            case-insensitive substring of the path (with query string) or the view
``"two words"``     quoted free text (also the way to search for the words ``ws`` or ``error``)
``status:5xx``      status class (1xx-5xx); ``status:404`` an exact status;
                    ``status:>=400``, ``status:400-499``; alternatives with commas:
                    ``status:404,5xx``
``kind:async``      ``sync``, ``async``, ``ws`` or ``static`` (commas for alternatives);
                    ``kind:static`` also shows static files while they are hidden
``view:polls.views`` case-insensitive substring of the view's (or consumer's) dotted path; a
                    request a middleware answered before its view ran (a CSRF 403) has its
                    view too, so it matches
``method:POST``     HTTP method (``WS`` for WebSockets); commas for alternatives
``path:/api/``      case-insensitive substring of the path alone
``slow:>200ms``     total time: ``>``, ``>=``, ``<``, ``<=`` or ``=`` (bare number means ``>=``),
                    units ``us``, ``ms`` (default), ``s``
``sql:>10``         number of SQL statements, same comparisons (bare number means ``>=``)
``worker:2``        served by worker 2 (``--workers N``) or by that pid; ``worker:1,2``
``ws``              WebSocket connections only
``error``           server errors: the view raised, or the status is 5xx
``n+1``             requests the server flagged N+1 (``--n-plus-one``); ``-n+1`` the others
``layer``           requests and WebSocket connections that used the channel layer
``-term``           negation, e.g. ``-kind:static`` or ``-/health``
==================  ===========================================================================

:func:`parse` raises :class:`FilterError` with a message that says what is wrong and what would
be right; it never raises anything else. No Textual here.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .model.rows import LogItem

Predicate = Callable[[LogItem], bool]

FIELDS = ("status", "kind", "view", "method", "path", "slow", "sql", "worker")
FLAGS = ("ws", "error", "n+1", "layer")
KINDS = ("sync", "async", "ws", "static")

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
_COMPARE_RE = re.compile(r"^(>=|<=|>|<|=)?\s*(\d+(?:\.\d+)?)\s*([a-zµ]*)$")
_UNITS_NS = {"": 1_000_000, "ms": 1_000_000, "s": 1_000_000_000, "us": 1_000, "µs": 1_000}
_STATUS_RANGE_RE = re.compile(r"^(\d{3})-(\d{3})$")


class FilterError(ValueError):
    """The filter text is invalid; ``str(error)`` says what is wrong, ``position`` where."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: call :meth:`matches` on a log row."""

    text: str = ""
    predicates: tuple[Predicate, ...] = ()
    #: True when the filter explicitly asks for static files (``kind:static``), so the log shows
    #: them even while the "show static" toggle is off.
    wants_static: bool = False
    terms: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.predicates

    def matches(self, item: LogItem) -> bool:
        return all(p(item) for p in self.predicates)


EMPTY = Filter()


def tokenize(text: str) -> list[tuple[str, int]]:
    """Split on whitespace, keeping double-quoted runs together: ``[(token, position)]``.

    Quotes are kept on the token so the parser can tell ``"error"`` (text) from ``error``.
    """
    tokens: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        buf: list[str] = []
        while i < n and not text[i].isspace():
            if text[i] == '"':
                end = text.find('"', i + 1)
                if end == -1:
                    raise FilterError(f'unclosed quote at column {i + 1}: add a closing "', i)
                buf.append(text[i : end + 1])
                i = end + 1
            else:
                buf.append(text[i])
                i += 1
        tokens.append(("".join(buf), start))
    return tokens


def parse(text: str) -> Filter:
    """Parse filter text (see the module docstring); empty text matches everything."""
    predicates: list[Predicate] = []
    wants_static = False
    terms: list[str] = []
    for token, pos in tokenize(text):
        negate = token[0] in "-!" and len(token) > 1
        body = token[1:] if negate else token
        predicate, static = _term(body, pos + negate)
        if negate:
            predicate = _negate(predicate)
        elif static:
            wants_static = True
        predicates.append(predicate)
        terms.append(token)
    return Filter(text, tuple(predicates), wants_static, tuple(terms))


@dataclass(slots=True)
class FilterEdit:
    """The filter being typed: which filter applies, and what is wrong with the text.

    Valid text applies at once (live filtering). Invalid text keeps the last valid filter, except
    a half-typed term: while typing ``status:abc`` the prefix ``status`` parses (a text search)
    and would leave "0 shown" under a confusing "filter: status". When the invalid text extends
    the applied text in the middle of a term, the last *committed* filter applies instead. A
    valid filter is committed on Enter, when the input loses focus, or when its text ends with
    a space (the term is finished).
    """

    applied: Filter = EMPTY
    committed: Filter = EMPTY
    error: str | None = None

    def edit(self, text: str) -> bool:
        """Take new text; True when the applied filter changed."""
        before = self.applied
        try:
            new = parse(text)
        except FilterError as exc:
            self.error = str(exc)
            last = self.applied.text
            if last and not last[-1].isspace() and text.startswith(last):
                self.applied = self.committed
        else:
            self.error = None
            self.applied = new
            if not text or text[-1].isspace():
                self.committed = new
        return self.applied.text.strip() != before.text.strip()

    def commit(self) -> None:
        """Enter or leaving the input: the applied filter becomes the fallback."""
        self.committed = self.applied

    @property
    def feedback(self) -> str:
        """The error line: what is wrong, and what is shown meanwhile."""
        if self.error is None:
            return ""
        showing = (
            f"still filtering by {self.applied.text.strip()}"
            if not self.applied.is_empty
            else "showing all requests"
        )
        return f"⚠ {self.error} ({showing})"


def _negate(p: Predicate) -> Predicate:
    return lambda item: not p(item)


def _term(body: str, pos: int) -> tuple[Predicate, bool]:
    """One term (without its negation) -> (predicate, asks for static files)."""
    if body.startswith('"'):
        return _text(body.replace('"', "")), False
    lowered = body.lower()
    if lowered == "ws":
        return (lambda item: item.is_ws), False
    if lowered == "error":
        return (lambda item: item.is_error), False
    if lowered == "layer":
        return (lambda item: item.layer_ops > 0), False
    if lowered == "n+1":
        return (lambda item: bool(item.n_plus_one)), False
    name, sep, value = body.partition(":")
    if not sep or name.startswith("/") or not name.isalpha():
        # Not "field:value" (e.g. a path such as /a:b): free text.
        return _text(body.replace('"', "")), False
    name = name.lower()
    value = value.replace('"', "").strip()
    if name not in FIELDS:
        raise FilterError(
            f'unknown field "{name}:" at column {pos + 1}: use one of '
            + ", ".join(f"{f}:" for f in FIELDS)
            + ' (or quote it, "like:this", to search for the text)',
            pos,
        )
    if not value:
        raise FilterError(
            f'"{name}:" needs a value at column {pos + 1}, e.g. {_EXAMPLES[name]}', pos
        )
    value_pos = pos + len(name) + 1
    return _FIELD_PARSERS[name](value, value_pos)


_EXAMPLES = {
    "status": "status:5xx, status:404, status:>=400, status:400-499",
    "kind": "kind:async (sync, async, ws, static)",
    "view": "view:polls.views",
    "method": "method:POST",
    "path": "path:/api/",
    "slow": "slow:>200ms",
    "sql": "sql:>10",
    "worker": "worker:2 (a worker index or a pid)",
}


def _text(needle: str) -> Predicate:
    needle = needle.lower()

    def match(item: LogItem) -> bool:
        e = item.entry
        target = e.path + ("?" + e.query if e.query else "")
        return needle in target.lower() or needle in (item.view or "").lower()

    return match


# Small closures with explicit types (lambdas in a loop would late-bind their variables).
def _status_class(hundred: int) -> Callable[[int], bool]:
    return lambda status: status // 100 == hundred


def _compare_to(op: Callable[[float, float], bool], number: float) -> Callable[[int], bool]:
    return lambda status: op(status, number)


def _between(lo: int, hi: int) -> Callable[[int], bool]:
    return lambda status: lo <= status <= hi


def _status(value: str, pos: int) -> tuple[Predicate, bool]:
    checks: list[Callable[[int], bool]] = []
    for alt in value.split(","):
        alt = alt.strip().lower()
        if re.fullmatch(r"[1-5]xx", alt):
            checks.append(_status_class(int(alt[0])))
        elif re.fullmatch(r"\d{3}", alt):
            checks.append(_compare_to(operator.eq, int(alt)))
        elif m := _STATUS_RANGE_RE.match(alt):
            lo, hi = int(m.group(1)), int(m.group(2))
            if lo > hi:
                raise FilterError(f"status range {alt} is backwards: write {hi}-{lo}", pos)
            checks.append(_between(lo, hi))
        elif (m := _COMPARE_RE.match(alt)) and m.group(1) and not m.group(3):
            checks.append(_compare_to(_OPS[m.group(1)], float(m.group(2))))
        else:
            raise FilterError(
                f"status:{alt or value} is not a status at column {pos + 1}: use e.g. "
                + _EXAMPLES["status"],
                pos,
            )

    def match(item: LogItem) -> bool:
        status = item.status
        return status is not None and any(check(status) for check in checks)

    return match, False


def _kind(value: str, pos: int) -> tuple[Predicate, bool]:
    wanted = {v.strip().lower() for v in value.split(",")}
    bad = sorted(wanted - set(KINDS))
    if bad:
        raise FilterError(
            f"kind:{bad[0]} is not a kind at column {pos + 1}: use sync, async, ws or static", pos
        )
    return (lambda item: item.badge in wanted), "static" in wanted


def _view(value: str, pos: int) -> tuple[Predicate, bool]:
    needle = value.lower()
    return (lambda item: needle in (item.view or "").lower()), False


def _method(value: str, pos: int) -> tuple[Predicate, bool]:
    wanted = {v.strip().upper() for v in value.split(",") if v.strip()}
    for method in wanted:
        if not method.isalpha():
            raise FilterError(
                f"method:{method} is not an HTTP method at column {pos + 1}: e.g. method:POST",
                pos,
            )
    return (lambda item: item.method.upper() in wanted), False


def _path(value: str, pos: int) -> tuple[Predicate, bool]:
    needle = value.lower()
    return (lambda item: needle in item.entry.path.lower()), False


def _compare(
    name: str, value: str, pos: int, *, units: bool
) -> tuple[Callable[[float, float], bool], float]:
    m = _COMPARE_RE.match(value.strip().lower())
    if m is None or (m.group(3) and not units):
        raise FilterError(
            f"{name}:{value} is not a comparison at column {pos + 1}: use e.g. " + _EXAMPLES[name],
            pos,
        )
    op = _OPS[m.group(1) or ">="]
    number = float(m.group(2))
    if units:
        unit = m.group(3)
        if unit not in _UNITS_NS:
            raise FilterError(
                f'unknown unit "{unit}" in {name}:{value} at column {pos + 1}: use us, ms or s',
                pos,
            )
        number *= _UNITS_NS[unit]
    return op, number


def _slow(value: str, pos: int) -> tuple[Predicate, bool]:
    op, threshold_ns = _compare("slow", value, pos, units=True)
    return (lambda item: op(item.total_ns, threshold_ns)), False


def _sql(value: str, pos: int) -> tuple[Predicate, bool]:
    op, count = _compare("sql", value, pos, units=False)
    return (lambda item: op(item.sql_count, count)), False


def _worker(value: str, pos: int) -> tuple[Predicate, bool]:
    """``worker:2``: the worker index, or the pid, of the server process that served the row."""
    alts = [v.strip() for v in value.split(",")]
    bad = next((alt for alt in alts if not alt.isdigit()), None)
    if bad is not None:
        raise FilterError(
            f"worker:{bad or value} is not a worker at column {pos + 1}: use e.g. "
            + _EXAMPLES["worker"],
            pos,
        )
    wanted = {int(alt) for alt in alts}
    return (lambda item: item.worker in wanted or item.worker_pid in wanted), False


_FIELD_PARSERS: dict[str, Callable[[str, int], tuple[Predicate, bool]]] = {
    "status": _status,
    "kind": _kind,
    "view": _view,
    "method": _method,
    "path": _path,
    "slow": _slow,
    "sql": _sql,
    "worker": _worker,
}

#: A short version of the grammar for the help screen and the filter bar's tooltip.
CHEATSHEET = """\
text            path (with query) or view contains text; "quote it" for spaces
status:5xx      also 404, >=400, 400-499, 404,5xx
kind:async      sync, async, ws, static (kind:static shows hidden static files)
view:polls.views  view or consumer dotted path contains
method:POST     HTTP method (commas for alternatives)
path:/api/      path contains
slow:>200ms     total time; > >= < <= =; units us, ms, s
sql:>10         number of SQL statements
worker:2        served by worker 2 (--workers) or by that pid
ws              WebSocket connections only
error           the view raised, or status 5xx
n+1             flagged N+1: one line ran the same SQL many times
layer           used the channel layer (group_send, groups, layer messages)
-term           negate a term, e.g. -kind:static
Terms are combined with AND: status:5xx kind:sync slow:>100ms"""
