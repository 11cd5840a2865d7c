"""Rich renderables for the request detail screen: headers, query, bodies, SQL, exceptions.

Bodies are bounded previews (the instrument keeps at most 64 KiB); we show at most
:data:`BODY_LINES` lines, pretty-print JSON, and highlight JSON/HTML/XML/JS/CSS. SQL statements
are shown with their parameters and issuing project line; repeated SQL is judged in
:mod:`..sqlgroups`: *similar* (same SQL, other parameters: N+1) versus *identical* (same SQL and
parameters: a cache opportunity).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from http import HTTPStatus
from urllib.parse import parse_qsl

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..events import ExceptionInfo, FrameInfo, Header, NPlusOne, RequestFinished
from ..formatting import duration, size
from ..sqlgroups import (
    RepeatGroup,
    Repeats,
    is_transaction_statement,
    n_plus_one_text,
    repeat_groups,
    repeats,
)
from .palette import Palette

BODY_LINES = 400
BODY_CHARS = 20_000
SQL_TEXT = 600
SQL_PARAMS_TEXT = 300
#: Repeated-SQL groups named above the statements.
SQL_GROUPS = 3

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


def _where(frame: FrameInfo) -> str:
    """``app/views.py:42 in view``: the last two path parts are enough to find the line."""
    parts = frame.filename.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{frame.lineno} in {frame.function}"


def _params(params: tuple[str, ...]) -> str:
    text = ", ".join(params)
    return text if len(text) <= SQL_PARAMS_TEXT else text[:SQL_PARAMS_TEXT] + " …"


def _group_line(group: RepeatGroup, p: Palette) -> Text:
    line = Text()
    if group.all_identical:
        line.append(
            f"⚠ {group.similar} identical statements (same SQL, same parameters): "
            "the same result fetched again, cache it",
            style=p.error,
        )
    else:
        identical = f", up to {group.identical} identical" if group.identical > 1 else ""
        line.append(
            f"⚠ {group.similar} similar statements (same SQL, {group.variants} parameter sets"
            f"{identical}): likely N+1",
            style=p.warning,
        )
    if group.source is not None:
        line.append(f" — {_where(group.source)}", style="bold")
        if group.source.line:
            line.append(f"\n    {group.source.line}", style=p.warning)
    line.append(f"\n    {group.shape[:160]}", style=p.muted)
    return line


def n_plus_one_line(found: NPlusOne, p: Palette) -> Text:
    """``N+1: 10 queries from demoapp/views.py:184 — use Item.objects.select_related(...)``:
    one line; the repeat group under it shows the loop's source line and the statement."""
    return Text(f"⚠ {n_plus_one_text(found)}", style=f"bold {p.warning}")


def _repeat_mark(mark: Repeats, p: Palette) -> Text:
    if mark.similar == 1:
        return Text("")
    if mark.variants == 1:
        return Text(f"={mark.identical}", style=f"bold {p.error}")
    text = Text(f"~{mark.similar}", style=f"bold {p.warning}")
    if mark.identical > 1:
        text.append(f" ={mark.identical}", style=f"bold {p.error}")
    return text


def sql_table(request: RequestFinished, p: Palette) -> RenderableType:
    """The statements in order (transaction statements included): duration, repeats, the
    parameters and the project line that issued each one; the repeated SQL on top."""
    if not request.sql_count:
        return Text("No SQL statements.", style=p.muted)
    header = Text()
    noun = "statement" if request.sql_count == 1 else "statements"
    header.append(f"{request.sql_count} {noun}, {duration(request.sql_ns)}")
    if not request.sql:
        header.append(" (statements were not recorded)", style=p.muted)
        return header
    if len(request.sql) < request.sql_count:
        header.append(f" (showing the first {len(request.sql)})", style=p.muted)
    parts: list[RenderableType] = [header]
    parts += [n_plus_one_line(found, p) for found in request.n_plus_one]
    parts += [_group_line(g, p) for g in repeat_groups(request.sql)[:SQL_GROUPS]]
    marks = repeats(request.sql)
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("#", justify="right", style=p.muted, no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("repeat", no_wrap=True)
    table.add_column("statement", overflow="fold", ratio=1)
    for i, (query, mark) in enumerate(zip(request.sql, marks, strict=True), 1):
        sql = query.sql if len(query.sql) <= SQL_TEXT else query.sql[:SQL_TEXT] + " …"
        statement = Text(sql, style=p.muted if is_transaction_statement(query.sql) else "")
        if query.many:
            statement.append(" (executemany)", style=p.muted)
        details = []
        if query.params:
            details.append(f"params: {_params(query.params)}")
        if query.source is not None:
            details.append(f"at {_where(query.source)}")
        if details:
            statement.append("\n" + "   ".join(details), style=p.muted)
        table.add_row(str(i), f"{query.duration_ns / 1e6:.2f}", _repeat_mark(mark, p), statement)
    legend = Text(
        "~n: n similar (same SQL, other parameters: N+1?)   "
        "=n: n identical (same SQL and parameters: cache?)",
        style=p.muted,
    )
    return Group(*parts, Text(""), table, Text(""), legend)


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
