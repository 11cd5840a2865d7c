"""Rich renderables for the request detail screen: headers, query, bodies, SQL, exceptions.

Bodies are bounded previews (the instrument keeps at most 64 KiB); we show at most
:data:`BODY_LINES` lines, pretty-print JSON, and highlight JSON/HTML/XML/JS/CSS. SQL statements
are grouped by shape (literals replaced by ``?``) so an N+1 pattern stands out.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterable
from http import HTTPStatus
from urllib.parse import parse_qsl

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..events import ExceptionInfo, Header, RequestFinished
from ..formatting import duration, size
from .palette import Palette

BODY_LINES = 400
BODY_CHARS = 20_000
SQL_TEXT = 600

_LEXERS = (
    ("json", "json"),
    ("html", "html"),
    ("xml", "xml"),
    ("javascript", "javascript"),
    ("css", "css"),
    ("graphql", "graphql"),
)


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _kv_table(rows: Iterable[tuple[str, str]], p: Palette, empty: str) -> RenderableType:
    rows = list(rows)
    if not rows:
        return Text(empty, style=p.muted)
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    return table


def headers_table(headers: Iterable[Header], p: Palette) -> RenderableType:
    return _kv_table(headers, p, "(no headers)")


def query_table(query: str, p: Palette) -> RenderableType:
    return _kv_table(parse_qsl(query, keep_blank_values=True), p, "(none)")


def _content_type(headers: Iterable[Header]) -> str:
    for k, v in headers:
        if k.lower() == "content-type":
            return v.lower()
    return ""


def body_view(
    body: str, headers: Iterable[Header], p: Palette, *, b64: bool, truncated: bool
) -> RenderableType:
    """A highlighted, bounded preview of a request or response body."""
    if not body:
        return Text("(empty)", style=p.muted)
    ctype = _content_type(headers)
    notes: list[str] = []
    if truncated:
        notes.append("preview truncated by the server-side tap")
    if b64:
        raw = base64.b64decode(body, validate=False)
        head = raw[:256]
        hexdump = " ".join(f"{b:02x}" for b in head)
        parts: list[RenderableType] = [
            Text(
                f"binary body ({ctype or 'no content type'}), {size(len(raw))} previewed",
                style=p.muted,
            ),
            Text(hexdump + (" …" if len(raw) > len(head) else ""), overflow="fold"),
        ]
        if notes:
            parts.append(Text("; ".join(notes), style=p.warning))
        return Group(*parts)
    text = body
    lexer = next((name for needle, name in _LEXERS if needle in ctype), None)
    if "x-www-form-urlencoded" in ctype:
        return Group(query_table(body, p), *(Text(n, style=p.warning) for n in notes))
    if lexer == "json" and not truncated:
        try:
            text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            notes.append("not valid JSON")
    lines = text.splitlines()
    if len(lines) > BODY_LINES or len(text) > BODY_CHARS:
        text = "\n".join(lines[:BODY_LINES])[:BODY_CHARS]
        notes.append(f"showing the first {min(len(lines), BODY_LINES)} lines")
    shown: RenderableType
    if lexer:
        shown = Syntax(text, lexer, theme="ansi_dark", word_wrap=True, background_color="default")
    else:
        shown = Text(text, overflow="fold")
    if notes:
        return Group(shown, Text("; ".join(notes), style=p.warning))
    return shown


_STRING_RE = re.compile(r"'(?:[^']|'')*'")
_NUMBER_RE = re.compile(r"\b\d+(?:\.\d+)?\b")
_IN_LIST_RE = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")


def sql_shape(sql: str) -> str:
    """The statement with literals replaced by ``?``: equal shapes mean "the same query"."""
    shape = _STRING_RE.sub("?", sql)
    shape = _NUMBER_RE.sub("?", shape)
    shape = _IN_LIST_RE.sub("(?)", shape)
    return " ".join(shape.split())


def sql_table(request: RequestFinished, p: Palette) -> RenderableType:
    """The statements in order, with duration and a duplicate marker."""
    if not request.sql_count:
        return Text("No SQL statements.", style=p.muted)
    shapes = [sql_shape(q.sql) for q in request.sql]
    by_shape = Counter(shapes)
    exact = Counter(q.sql for q in request.sql)
    header = Text()
    header.append(f"{request.sql_count} statements, {duration(request.sql_ns)}")
    if not request.sql:
        header.append(" (statements were not recorded)", style=p.muted)
        return header
    if len(request.sql) < request.sql_count:
        header.append(f" (showing the first {len(request.sql)})", style=p.muted)
    repeated = [(shape, n) for shape, n in by_shape.most_common() if n > 1]
    if repeated:
        shape, n = repeated[0]
        header.append(f"\n⚠ {n} statements with the same shape: likely N+1 — ", style=p.warning)
        header.append(shape[:160], style=p.warning)
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("#", justify="right", style=p.muted, no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("dup", no_wrap=True)
    table.add_column("statement", overflow="fold", ratio=1)
    for i, (query, shape) in enumerate(zip(request.sql, shapes, strict=True), 1):
        if exact[query.sql] > 1:
            dup = Text(f"={exact[query.sql]}", style=f"bold {p.error}")
        elif by_shape[shape] > 1:
            dup = Text(f"x{by_shape[shape]}", style=f"bold {p.warning}")
        else:
            dup = Text("")
        sql = query.sql if len(query.sql) <= SQL_TEXT else query.sql[:SQL_TEXT] + " …"
        many = " (executemany)" if query.many else ""
        table.add_row(str(i), f"{query.duration_ns / 1e6:.2f}", dup, sql + many)
    legend = Text(
        "xn: same shape as n statements (N+1?)   =n: identical to n statements", style=p.muted
    )
    return Group(header, Text(""), table, Text(""), legend)


def error_view(error: ExceptionInfo, p: Palette) -> RenderableType:
    """The exception: type and message, the project frame, the hint, then the traceback."""
    parts: list[RenderableType] = [
        Text(f"{error.type}: {error.message}", style=f"bold {p.error}"),
    ]
    if error.frame is not None:
        f = error.frame
        where = Text(f"{f.filename}:{f.lineno} in {f.function}", style="bold")
        if f.line:
            where.append(f"\n    {f.line}", style=p.warning)
        parts.append(where)
    if error.hint:
        parts.append(Text(f"hint: {error.hint}", style=p.success))
    parts.append(Text(""))
    parts.append(Text(error.traceback.rstrip(), style=p.muted, overflow="fold"))
    return Group(*parts)
