"""N+1 in the core: detection from recorded statements (``sqlgroups.loop_groups``), the fix's
words, the event's round trip, the log's ``n+1`` filter term and mark, the Views column's count,
and the headless line. No Django here: the fix itself is derived in the server process
(tests/instrument/test_nplus1*.py)."""

from __future__ import annotations

import pytest
from rich.text import Text

from asgi_dashboard.describe import format_request
from asgi_dashboard.eventpipe import FrameReader, frame
from asgi_dashboard.events import FrameInfo, NPlusOne, RequestFinished, SqlQuery, decode, encode
from asgi_dashboard.filters import parse
from asgi_dashboard.instrument.nplus1 import find, from_table, where_column
from asgi_dashboard.model import Dashboard
from asgi_dashboard.sqlgroups import loop_groups, n_plus_one_fix, n_plus_one_text, sql_shape
from asgi_dashboard.widgets.log_cells import N_PLUS_ONE_MARK, Layout, log_cells
from asgi_dashboard.widgets.palette import Palette
from asgi_dashboard.widgets.view_stats import n_plus_one_cell

LOOP = FrameInfo("/p/shop/views.py", 184, "items", "names.append(item.category.name)")
OTHER = FrameInfo("/p/shop/views.py", 190, "items", "Category.objects.get(pk=pk)")
LIST = 'SELECT "shop_item"."id", "shop_item"."category_id" FROM "shop_item"'
BY_PK = 'SELECT "shop_category"."id" FROM "shop_category" WHERE "shop_category"."id" = %s LIMIT 21'
FOUND = NPlusOne(
    10,
    sql_shape(BY_PK),
    LOOP,
    model="shop.Category",
    queryset_model="shop.Item",
    relation="category",
    fix="select_related('category')",
)


def statements(
    n: int, source: FrameInfo | None = LOOP, *, same_params: bool = False
) -> list[SqlQuery]:
    """The list query, then ``n`` lookups from one line (params 1..n, or all 1)."""
    rows = [SqlQuery(LIST, 1000, source=FrameInfo("/p/shop/views.py", 183, "items"))]
    rows += [
        SqlQuery(BY_PK, 1000, params=("1" if same_params else str(i), "21"), source=source)
        for i in range(1, n + 1)
    ]
    return rows


def request(found: tuple[NPlusOne, ...] = (FOUND,), **kw: object) -> RequestFinished:
    fields: dict[str, object] = {
        "id": "1-1",
        "method": "GET",
        "path": "/items/",
        "status": 200,
        "view": "shop.views.items",
        "route": "items/",
        "kind": "sync",
        "sql_count": 11,
        "n_plus_one": found,
    }
    fields.update(kw)
    return RequestFinished(**fields)  # type: ignore[arg-type]


# -- detection --------------------------------------------------------------------------------


def test_a_loop_at_the_threshold_is_one_group_below_it_none() -> None:
    (group,) = loop_groups(statements(5), 5)
    assert group.count == 5 and group.source == LOOP
    assert group.indexes == (1, 2, 3, 4, 5)
    assert group.shape == sql_shape(BY_PK)
    assert loop_groups(statements(4), 5) == []


@pytest.mark.parametrize("threshold", [0, -1])
def test_threshold_zero_turns_it_off(threshold: int) -> None:
    assert loop_groups(statements(20), threshold) == []
    assert find(statements(20), threshold) == ()


def test_threshold_one_counts_as_two() -> None:
    """One statement is no loop: ``--n-plus-one 1`` flags what 2 flags."""
    assert loop_groups(statements(1), 1) == []
    assert [g.count for g in loop_groups(statements(2), 1)] == [2]


def test_the_same_value_fetched_again_is_not_n_plus_one() -> None:
    """All identical (same SQL and parameters): a cache opportunity, not a query per row."""
    assert loop_groups(statements(8, same_params=True), 5) == []


def test_the_same_sql_from_two_lines_is_two_loops() -> None:
    queries = statements(3) + statements(3, OTHER)[1:]
    assert loop_groups(queries, 5) == []
    assert [g.source for g in loop_groups(queries, 3)] == [LOOP, OTHER]


def test_different_sql_from_one_line_is_no_loop() -> None:
    queries = [
        SqlQuery(
            f'SELECT COUNT(*) FROM "t{i}" WHERE "t{i}"."x" = %s', 1, params=(str(i),), source=LOOP
        )
        for i in range(8)
    ]
    assert loop_groups(queries, 5) == []


def test_transaction_statements_never_make_a_loop() -> None:
    queries = [SqlQuery(f'SAVEPOINT "s1_x{i}"', 1, source=LOOP) for i in range(8)]
    assert loop_groups(queries, 5) == []


def test_a_paginated_list_is_not_n_plus_one() -> None:
    queries = [
        SqlQuery('SELECT COUNT(*) AS "__count" FROM "shop_item"', 1, source=LOOP),
        SqlQuery(LIST + " LIMIT 4 OFFSET 4", 1, source=LOOP),
    ]
    assert loop_groups(queries, 2) == []


def test_statements_of_library_code_group_under_no_line() -> None:
    (group,) = loop_groups(statements(6, None), 5)
    assert group.source is None and group.count == 6


def test_the_biggest_loop_comes_first() -> None:
    queries = statements(5, OTHER) + statements(7)[1:]
    assert [g.count for g in loop_groups(queries, 5)] == [7, 5]


# -- the statement's parts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "table", "where"),
    [
        (BY_PK, "shop_category", ("shop_category", "id")),
        (
            "SELECT `shop_item`.`id` FROM `shop_item` WHERE `shop_item`.`category_id` = %s",
            "shop_item",
            ("shop_item", "category_id"),
        ),
        (
            'SELECT "t"."id" FROM "shop_tag" "t" INNER JOIN "shop_item_tags" ON ("t"."id" = '
            '"shop_item_tags"."tag_id") WHERE "shop_item_tags"."item_id" = %s',
            "shop_tag",
            ("shop_item_tags", "item_id"),
        ),
        ('SELECT COUNT(*) AS "__count" FROM "shop_item"', "shop_item", None),
    ],
)
def test_table_and_where_column_of_django_sql(
    sql: str, table: str, where: tuple[str, str] | None
) -> None:
    assert from_table(sql) == table
    assert where_column(sql) == where


# -- words ------------------------------------------------------------------------------------


def test_the_fix_names_the_queryset_to_change() -> None:
    assert n_plus_one_fix(FOUND) == "Item.objects.select_related('category')"
    assert n_plus_one_text(FOUND) == (
        "N+1: 10 queries from shop/views.py:184 — use Item.objects.select_related('category')"
    )


@pytest.mark.parametrize(
    ("shape", "advice"),
    [
        ("SELECT ? FROM t WHERE id = ?", "fetch them in one query (select_related"),
        ('INSERT INTO "t" ("a") VALUES (?)', "bulk_create()"),
        ('UPDATE "t" SET "a" = ? WHERE "id" = ?', "bulk_update() or queryset.update()"),
        ('DELETE FROM "t" WHERE "id" = ?', "filter(...).delete()"),
    ],
)
def test_without_a_derived_fix_the_words_still_say_what_to_do(shape: str, advice: str) -> None:
    bare = NPlusOne(6, shape, None)
    assert n_plus_one_fix(bare) is None
    text = n_plus_one_text(bare)
    assert text.startswith("N+1: 6 queries from library code — ") and advice in text


def test_the_headless_line_carries_it() -> None:
    line = format_request(request())
    assert "\n    N+1: 10 queries from shop/views.py:184 — use Item.objects" in line
    assert "N+1" not in format_request(request(()))


# -- the event --------------------------------------------------------------------------------


def test_round_trips_through_json_and_the_pipe() -> None:
    event = request()
    assert decode(encode(event)) == event
    events, problems = FrameReader().feed(frame([event]))
    assert events == [event] and not problems
    plain = decode(encode(request(())))
    assert isinstance(plain, RequestFinished) and plain.n_plus_one == ()


# -- the log, the filter, the Views column --------------------------------------------------------


def test_the_n_plus_one_filter_term_and_its_negation() -> None:
    dash = Dashboard()
    dash.ingest([request(), request((), id="1-2", path="/ok/")])
    items = list(dash.history)
    assert [i.entry.path for i in items if parse("n+1").matches(i)] == ["/items/"]
    assert [i.entry.path for i in items if parse("-n+1").matches(i)] == ["/ok/"]
    assert [i.entry.path for i in items if parse("N+1 view:shop").matches(i)] == ["/items/"]


def test_the_row_is_marked_and_its_sql_count_warns() -> None:
    dash = Dashboard()
    dash.ingest([request(), request((), id="1-2", path="/ok/")])
    flagged, plain = list(dash.history)
    p = Palette()
    cells = log_cells(flagged, Layout.for_width(160), p)
    view = cells[4]
    assert isinstance(view, Text) and view.plain.endswith(N_PLUS_ONE_MARK)
    assert N_PLUS_ONE_MARK not in str(log_cells(plain, Layout.for_width(160), p)[4])
    narrow = log_cells(flagged, Layout.for_width(80), p)[4]
    assert isinstance(narrow, Text) and narrow.plain.endswith("N+1")
    assert len(narrow.plain) <= Layout.for_width(80).view


def test_the_views_column_counts_flagged_requests() -> None:
    dash = Dashboard()
    dash.ingest([request(), request(id="1-2"), request((), id="1-3")])
    (agg,) = dash.views.rows()
    assert agg.count == 3 and agg.n_plus_one == 2
    assert agg.last_n_plus_one == FOUND
    assert n_plus_one_cell(agg, Palette()).plain == "2"
    dash.ingest([request((), id="2-1", view="shop.views.other", route="other/")])
    assert [a.view for a in dash.views.rows("n_plus_one")] == [
        "shop.views.items",
        "shop.views.other",
    ]
    assert n_plus_one_cell(dash.views.rows("n_plus_one")[1], Palette()).plain == "-"


def test_the_sql_tab_names_the_fix_once() -> None:
    from rich.console import Console

    from asgi_dashboard.widgets.detail_parts import sql_table

    queries = tuple(statements(10))
    console = Console(width=200, record=True)
    console.print(sql_table(request(sql=queries, sql_count=len(queries)), Palette()))
    text = console.export_text()
    assert text.count("N+1: 10 queries from shop/views.py:184 — use Item.objects.") == 1
    # The loop's line is shown once, by the repeat group under the N+1 line.
    assert text.count("⚠ 10 similar statements") == 1
    assert text.count("names.append(item.category.name)") == 1
    console = Console(width=200, record=True)
    console.print(sql_table(request((), sql=queries, sql_count=len(queries)), Palette()))
    assert "10 similar statements" in console.export_text()
