"""SQL truth: the statements recorded for a request are the ones Django itself records.

Each request runs twice on the same database: through the instrumented demo application (httpx
``ASGITransport``, sync views on asgiref's executor as under a server) and through Django's test
client inside ``CaptureQueriesContext`` on a plain thread. The two lists of statements must be
equal, transaction statements included (``BEGIN``, ``COMMIT``, ``ROLLBACK``, savepoints), with
``ATOMIC_REQUESTS`` off and on. Django's list holds interpolated SQL, ours the SQL as executed
plus its parameters: both are compared as shapes (values replaced by ``?``, savepoint ids
normalised), and the parameters are checked against Django's interpolated values.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from asgi_dashboard.events import FrameInfo, RequestFinished, SqlQuery, decode, encode
from asgi_dashboard.har import entry
from asgi_dashboard.instrument import sql
from asgi_dashboard.instrument.sql import MAX_PARAM_CHARS, MAX_PARAMS, param_texts
from asgi_dashboard.redact import REDACTED, redact_event
from asgi_dashboard.sqlgroups import is_transaction_statement, repeat_groups, repeats, sql_shape
from tests.conftest import DEMO_DIR
from tests.instrument.conftest import Instrumented

USERNAME = "sqltruth"
PASSWORD = "sql-truth-password-42"
_SAVEPOINT_ID = re.compile(r'"s\d+_x\d+"')


@pytest.fixture(autouse=True)
def _sql_urls() -> Iterator[None]:
    with override_settings(ROOT_URLCONF="tests.instrument.sql_urls"):
        yield


@pytest.fixture(params=[False, True], ids=["autocommit", "atomic-requests"])
def atomic_requests(request: pytest.FixtureRequest, loaded: object) -> Iterator[bool]:
    """``ATOMIC_REQUESTS`` for the default database, as ``make_view_atomic`` reads it: every
    thread's connection shares the one settings dict of ``connections.settings``."""
    settings_dict = connections.settings["default"]
    before = settings_dict.get("ATOMIC_REQUESTS", False)
    settings_dict["ATOMIC_REQUESTS"] = request.param
    yield request.param
    settings_dict["ATOMIC_REQUESTS"] = before


def _normalise(sql: str) -> str:
    return sql_shape(_SAVEPOINT_ID.sub('"SP"', sql))


async def _instrumented(
    instrumented: Instrumented,
    method: str,
    path: str,
    *,
    data: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[httpx.Response, RequestFinished]:
    before = len(instrumented.sink.of(RequestFinished))
    transport = httpx.ASGITransport(app=instrumented.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", cookies=cookies
    ) as client:
        response = await asyncio.wait_for(client.request(method, path, data=data), 30)
    finished = instrumented.sink.of(RequestFinished)
    assert len(finished) == before + 1
    return response, finished[-1]


async def _django(method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    """The same request through ``django.test.Client``, recorded by Django itself."""

    def run() -> dict[str, Any]:
        client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
        with CaptureQueriesContext(connection) as ctx:
            response = client.generic(method, path, **_form(data))
        return {"status": response.status_code, "queries": ctx.captured_queries}

    return await sync_to_async(run, thread_sensitive=False)()


def _form(data: dict[str, str] | None) -> dict[str, Any]:
    if data is None:
        return {}
    from urllib.parse import urlencode

    return {"data": urlencode(data), "content_type": "application/x-www-form-urlencoded"}


def _assert_same_statements(
    event: RequestFinished, django: dict[str, Any], *, same_values: bool = True
) -> None:
    """Same statements in the same order; with ``same_values`` (the request only read: both
    runs saw the same rows), each of our parameters is also in Django's interpolated SQL."""
    ours = [_normalise(q.sql) for q in event.sql]
    theirs = [_normalise(re.sub(r"^\S+ times: ", "", q["sql"])) for q in django["queries"]]
    assert event.status == django["status"]
    assert event.sql_count == len(django["queries"]), (ours, theirs)
    assert ours == theirs
    assert event.sql_ns == sum(q.duration_ns for q in event.sql)
    for query, recorded in zip(event.sql, django["queries"], strict=True):
        assert len(query.params) == query.sql.count("%s"), (query.sql, query.params)
        if not same_values:
            continue  # a write: the two runs inserted rows with different ids
        # Each recorded parameter is in Django's interpolated statement (ints as written,
        # strings quoted by the backend: compare their text without repr's quotes).
        for param in query.params:
            text = param.strip("'\"") if param[:1] in "'\"" else param
            if text in ("True", "False", "None"):
                continue  # SQLite interpolates them as 1, 0 and NULL
            assert text in recorded["sql"], (param, recorded["sql"])


VIEWS = [
    "/orm/sync/",
    "/orm/n-plus-one/",
    "/template/",
    "/sql/atomic/?name=sql-truth-atomic",
    "/sql/raises/?name=sql-truth-raises",
    "/orm/async/",
]


@pytest.mark.parametrize(
    ("atomic_requests", "path"),
    # Django refuses ATOMIC_REQUESTS for async views, so that pair is not a case.
    [(a, p) for a in (False, True) for p in VIEWS if not (a and p == "/orm/async/")],
    indirect=["atomic_requests"],
)
async def test_statements_equal_djangos_record(
    instrumented: Instrumented, atomic_requests: bool, path: str
) -> None:
    _, event = await _instrumented(instrumented, "GET", path)
    django = await _django("GET", path)
    _assert_same_statements(event, django, same_values=not path.startswith("/sql/"))
    sqls = [q.sql for q in event.sql]
    if atomic_requests:
        assert sqls[0] == "BEGIN"
        # (A TemplateResponse's lazy queryset is evaluated after the view: after the COMMIT.)
        assert ("ROLLBACK" if path.startswith("/sql/raises/") else "COMMIT") in sqls
    elif path.startswith("/sql/"):
        assert "BEGIN" in sqls
        assert sqls[-1] == ("ROLLBACK" if path.startswith("/sql/raises/") else "COMMIT")


async def test_savepoints_and_their_rollback_are_listed(
    instrumented: Instrumented, atomic_requests: bool
) -> None:
    # These test views are the "project" here (the demo's folder is, for the other tests).
    sql.install(str(Path(__file__).parent))
    try:
        _, event = await _instrumented(instrumented, "GET", "/sql/atomic/?name=sql-truth-sp")
    finally:
        sql.install(str(DEMO_DIR))
    kinds = [q.sql.split(" ")[0] for q in event.sql if is_transaction_statement(q.sql)]
    # Outer atomic: BEGIN ... COMMIT; with ATOMIC_REQUESTS the view's blocks are savepoints.
    assert kinds.count("SAVEPOINT") == (3 if atomic_requests else 2)
    assert kinds.count("RELEASE") == kinds.count("SAVEPOINT")  # rolled back to, then released
    assert [q.sql for q in event.sql].count("BEGIN") == 1
    assert sum(q.sql.startswith("ROLLBACK TO SAVEPOINT") for q in event.sql) == 1
    commit = event.sql[-1]
    assert commit.sql == "COMMIT" and commit.duration_ns > 0
    # The transaction statements of the view's own atomic blocks point at the view.
    inner = [q for q in event.sql if q.sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO"))]
    assert inner and all(q.source and q.source.filename.endswith("sql_urls.py") for q in inner)
    assert all(q.source.function == "atomic_savepoints" for q in inner)  # type: ignore[union-attr]
    # ATOMIC_REQUESTS' own BEGIN/COMMIT are Django's, issued around the view: no project line.
    if atomic_requests:
        assert event.sql[0].source is None and commit.source is None


async def _csrf(instrumented: Instrumented) -> tuple[str, str]:
    response, _ = await _instrumented(instrumented, "GET", "/admin/login/")
    cookie = response.cookies["csrftoken"]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    assert match, "the admin login form has a CSRF token"
    return cookie, match.group(1)


@pytest.fixture
async def admin_user(loaded: object) -> AsyncIterator[None]:
    def create() -> None:
        from django.contrib.auth.models import User

        if not User.objects.filter(username=USERNAME).exists():
            User.objects.create_superuser(USERNAME, "sql@example.com", PASSWORD)

    await sync_to_async(create, thread_sensitive=False)()
    yield


async def test_login_post_counts_commits(
    instrumented: Instrumented, atomic_requests: bool, admin_user: None
) -> None:
    """A login POST writes the session in an ``atomic`` block (and the last login): Django
    records its BEGIN and COMMIT; the execute wrappers alone never saw the COMMIT."""
    cookie, token = await _csrf(instrumented)
    form = {"username": USERNAME, "password": PASSWORD, "next": "/admin/"}
    response, event = await _instrumented(
        instrumented,
        "POST",
        "/admin/login/?next=/admin/",
        data={**form, "csrfmiddlewaretoken": token},
        cookies={"csrftoken": cookie},
    )
    assert response.status_code == 302, response.text[:300]
    django = await _django("POST", "/admin/login/?next=/admin/", form)
    _assert_same_statements(event, django, same_values=False)
    assert [q.sql for q in event.sql].count("COMMIT") >= 1
    # Parameters are recorded: the username looked up is one of them.
    assert any(repr(USERNAME) in q.params for q in event.sql)


async def test_n_plus_one_is_similar_not_identical_and_points_at_the_loop(
    instrumented: Instrumented,
) -> None:
    _, event = await _instrumented(instrumented, "GET", "/orm/n-plus-one/")
    assert event.sql_count == 11
    per_item = event.sql[1:]
    assert {q.sql for q in per_item} == {per_item[0].sql}
    assert len({q.params for q in per_item}) == 3  # ten items in three categories
    views = DEMO_DIR / "demoapp" / "views.py"
    lines = views.read_text().splitlines()
    loop = next(i for i, t in enumerate(lines, 1) if "item.category.name" in t and "append" in t)
    first = next(i for i, t in enumerate(lines, 1) if "for item in Item.objects.all()" in t)
    assert all(q.source is not None for q in event.sql)
    assert {(Path(q.source.filename), q.source.lineno) for q in per_item} == {(views, loop)}  # type: ignore[union-attr]
    assert event.sql[0].source.lineno == first  # type: ignore[union-attr]
    assert event.sql[0].source.function == "orm_n_plus_one"  # type: ignore[union-attr]

    (group,) = repeat_groups(event.sql)
    assert (group.similar, group.variants, group.all_identical) == (10, 3, False)
    assert group.source is not None and group.source.lineno == loop
    marks = repeats(event.sql)
    assert marks[0].similar == 1
    assert {m.similar for m in marks[1:]} == {10}
    assert sorted({m.identical for m in marks[1:]}) == [3, 4]  # 4 books, 3 hardware, 3 stickers


async def test_a_view_query_points_at_the_view(instrumented: Instrumented) -> None:
    _, event = await _instrumented(instrumented, "GET", "/orm/sync/")
    assert event.sql and event.sql[0].source is not None
    assert event.sql[0].source.function == "orm_sync"


def test_identical_statements_are_told_from_similar_ones() -> None:
    q = "SELECT * FROM t WHERE id = %s"
    queries = [
        SqlQuery("BEGIN", 1),
        SqlQuery(q, 1, params=("1",)),
        SqlQuery(q, 1, params=("1",)),
        SqlQuery(q, 1, params=("1",)),
        SqlQuery("SELECT 1", 1),
        SqlQuery("COMMIT", 1),
        SqlQuery("BEGIN", 1),
        SqlQuery("COMMIT", 1),
    ]
    marks = repeats(queries)
    assert [(m.similar, m.identical) for m in marks] == [
        (1, 1), (3, 3), (3, 3), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1)
    ]  # fmt: skip
    (group,) = repeat_groups(queries)
    assert group.all_identical and group.identical == 3


def test_parameters_are_bounded() -> None:
    assert param_texts(None) == ()
    assert param_texts([1, "a", None]) == ("1", "'a'", "None")
    assert param_texts({"name": "x"}) == ("name='x'",)
    long_a, long_b = "x" * 1000 + "a", "x" * 1000 + "b"
    (text_a,), (text_b,) = param_texts([long_a]), param_texts([long_b])
    assert len(text_a) <= MAX_PARAM_CHARS + 10 and text_a != text_b
    many = param_texts(list(range(500)))
    assert len(many) == MAX_PARAMS + 1 and many[-1].startswith(f"… {500 - MAX_PARAMS} more")
    assert many[-1] != param_texts([*range(499), -1])[-1]
    rows = iter([(1,), (2,)])
    assert param_texts(rows, many=True) == ("<iterator>",)
    assert next(rows) == (1,), "an executemany iterator is never consumed"
    assert param_texts([(1,), (2,)], many=True) == ("(1,)", "(2,)")


def _with_params() -> RequestFinished:
    return RequestFinished(
        id="r1",
        method="POST",
        path="/login/",
        status=302,
        sql_count=2,
        sql=(
            SqlQuery("SELECT * FROM auth_user WHERE username = %s", 10, params=("'alice'",)),
            SqlQuery("COMMIT", 5),
        ),
    )


def test_exports_redact_parameters_by_default() -> None:
    event = _with_params()
    redacted = redact_event(event)
    assert redacted.sql[0].params == (REDACTED,)
    assert redacted.sql[0].sql == event.sql[0].sql and redacted.sql[1] == event.sql[1]
    assert decode(encode(redacted)) == redacted

    har = entry(event, "http://127.0.0.1:8000")["_asgiDash"]["sql"]
    assert [s["sql"] for s in har] == [q.sql for q in event.sql]
    assert har[0]["params"] == [REDACTED]
    kept = entry(event, "http://127.0.0.1:8000", redact=False)["_asgiDash"]["sql"]
    assert kept[0]["params"] == ["'alice'"]
    assert kept[1]["ms"] == 0.0 and kept[0]["ms"] == 0.0  # 10 ns


def test_sql_shape_folds_placeholders_and_literals() -> None:
    assert sql_shape("SELECT a FROM t WHERE id IN (%s, %s, %s)") == sql_shape(
        "SELECT a FROM t WHERE id IN (1, 2)"
    )
    assert is_transaction_statement('SAVEPOINT "s1_x1"')
    assert is_transaction_statement("ROLLBACK TO SAVEPOINT x")
    assert not is_transaction_statement("SELECT 1")


async def test_sql_tab_of_the_demo_n_plus_one_says_similar_at_the_loop(
    instrumented: Instrumented,
) -> None:
    from rich.console import Console

    from asgi_dashboard.widgets.detail_parts import sql_table
    from asgi_dashboard.widgets.palette import Palette

    _, event = await _instrumented(instrumented, "GET", "/orm/n-plus-one/")
    console = Console(width=200, record=True, color_system=None)
    console.print(sql_table(event, Palette()))
    text = console.export_text()
    lines = (DEMO_DIR / "demoapp" / "views.py").read_text().splitlines()
    loop = next(i for i, t in enumerate(lines, 1) if "item.category.name" in t and "append" in t)
    assert "⚠ 10 similar statements (same SQL, 3 parameter sets, up to 4 identical)" in text
    assert f"demoapp/views.py:{loop} in orm_n_plus_one" in text
    assert "10 identical" not in text
    assert "params: 1   at demoapp/views.py" in text  # the TUI shows values (exports redact)


async def test_async_orm_queries_point_at_the_awaiting_line(instrumented: Instrumented) -> None:
    """The async ORM runs each query on a worker thread, whose stack holds no project frame:
    the line is the one awaiting it, down the request task's coroutines."""
    _, event = await _instrumented(instrumented, "GET", "/orm/async/")
    lines = (DEMO_DIR / "demoapp" / "views.py").read_text().splitlines()
    acount = next(i for i, t in enumerate(lines, 1) if "await Item.objects.acount()" in t)
    helper = next(i for i, t in enumerate(lines, 1) if "def _items_per_category" in t)
    sources = [(q.source.function, q.source.lineno) for q in event.sql if q.source is not None]
    assert len(sources) == event.sql_count
    assert sources[0] == ("orm_async", acount)
    # sync_to_async(_items_per_category): the sync helper is on the worker thread's stack.
    assert any(f == "_items_per_category" and helper < n < helper + 8 for f, n in sources)


def test_parameter_text_per_request_is_bounded() -> None:
    from asgi_dashboard.instrument.records import RequestRecord

    rec = RequestRecord(start_ns=0)
    value = "v" * (MAX_PARAM_CHARS - 2)  # its repr is exactly MAX_PARAM_CHARS long
    for i in range(sql.MAX_REQUEST_PARAM_CHARS // (2 * MAX_PARAM_CHARS) + 10):
        sql._record(rec, "INSERT INTO t VALUES (%s, %s, %s)", 1, False, [value, i, value])
    kept = [q.params for q in rec.sql]
    assert rec.sql_param_chars <= sql.MAX_REQUEST_PARAM_CHARS
    assert kept[0] == (repr(value), "0", repr(value))
    # Past the budget: one short entry per statement, still telling different values apart.
    assert kept[-1][0].startswith("<3 parameters not kept #") and kept[-1] != kept[-2]


def test_a_large_parameter_is_cut() -> None:
    big = "x" * 5_000_000 + "a"
    (text,) = param_texts({"big": big})[0].partition("=")[2:]
    assert len(text) <= MAX_PARAM_CHARS + 10, "a mapping's values are cut before repr"
    (text,) = param_texts([big])
    assert len(text) <= MAX_PARAM_CHARS + 10 and text != param_texts(["x" * 5_000_000 + "b"])[0]
    (blob,) = param_texts((b"\0" * 1_000_000,))
    assert blob.startswith("b'\\x00") and len(blob) <= MAX_PARAM_CHARS + 10


@pytest.mark.parametrize("keep_secrets", [False, True])
def test_json_stream_redacts_parameters_unless_kept(tmp_path: Path, keep_secrets: bool) -> None:
    import io
    import json

    from asgi_dashboard.config import DashboardConfig
    from asgi_dashboard.headless import HeadlessPrinter

    out = io.StringIO()
    config = DashboardConfig(
        project_dir=tmp_path, settings_module="mysite.settings", settings_source="--settings"
    )
    printer = HeadlessPrinter(config, True, out, keep_secrets=keep_secrets, err=io.StringIO())
    printer([_with_params()])
    (line,) = out.getvalue().splitlines()
    statements = json.loads(line)["sql"]
    assert [s["sql"] for s in statements] == [q.sql for q in _with_params().sql]
    assert statements[0]["params"] == (["'alice'"] if keep_secrets else [REDACTED])


async def test_the_same_sql_from_different_lines_keeps_each_line(
    instrumented: Instrumented, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeated statement's line is checked against the last one's cheaply; a different line
    (same SQL, same depth) is found again, not reused."""
    walks: list[tuple[str, int, str]] = []
    frame_info = sql._frame_info

    def counted_frame_info(*a: Any) -> FrameInfo:
        walks.append(a)
        return frame_info(*a)

    monkeypatch.setattr(sql, "_frame_info", counted_frame_info)
    sql.install(str(Path(__file__).parent))
    try:
        _, event = await _instrumented(instrumented, "GET", "/sql/two-sites/")
    finally:
        sql.install(str(DEMO_DIR))
    lines = (Path(__file__).parent / "sql_urls.py").read_text().splitlines()
    site = {t.split("# site: ")[1]: i for i, t in enumerate(lines, 1) if "# site: " in t}
    assert len({q.sql for q in event.sql}) == 1
    assert [q.source.lineno for q in event.sql] == [  # type: ignore[union-attr]
        site["first"], site["second"], site["loop"], site["loop"], site["loop"]
    ]  # fmt: skip
    # Walked for the first statement of each line; the loop's 2nd and 3rd were recognised.
    assert [a[1] for a in walks] == [site["first"], site["second"], site["loop"]]


def test_statements_with_parameters_and_source_cross_the_event_pipe() -> None:
    from asgi_dashboard.eventpipe import FrameReader, frame
    from asgi_dashboard.events import FrameInfo

    source = FrameInfo("/p/app/views.py", 12, "index", "for x in qs:")
    event = RequestFinished(
        id="r2",
        method="GET",
        path="/",
        status=200,
        sql_count=2,
        sql=(SqlQuery("SELECT %s", 5, params=("1",), source=source), SqlQuery("COMMIT", 7)),
    )
    events, problems = FrameReader().feed(frame([event, event]))
    assert problems == [] and events == [event, event]
    assert decode(encode(event)) == event
