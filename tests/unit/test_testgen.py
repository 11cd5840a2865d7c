"""The test generator (asgi_dashboard/testgen): HTTP tests from RequestFinished events.

Every generated function is compiled and checked with ``ruff format --check`` as the generator
laid it out (without running ruff on it), so the code is formatted even where ruff is missing.
"""

from __future__ import annotations

import ast
import subprocess

import pytest

from asgi_dashboard.events import RequestFinished, SqlQuery
from asgi_dashboard.testgen import GenOptions, http_test, needs_transaction
from asgi_dashboard.testgen.files import import_block, ruff_command
from asgi_dashboard.testgen.layout import LINE_LENGTH, call, literal, py_bytes, py_str, render
from asgi_dashboard.testgen.names import GeneratedTest, function_name

TS = 1_764_460_800.0  # 2025-11-30 00:00:00 UTC


def request(**kw: object) -> RequestFinished:
    fields: dict[str, object] = {"ts": TS, "id": "0-1", "method": "GET", "path": "/", "status": 200}
    fields.update(kw)
    return RequestFinished(**fields)  # type: ignore[arg-type]


def module_of(test: GeneratedTest) -> str:
    prelude = f"{test.prelude}\n\n\n" if test.prelude else ""
    return f"{import_block(test.imports)}\n\n{prelude}{test.source}\n"


def assert_formatted(text: str) -> None:
    """Valid Python that ``ruff format`` (default settings) would leave as it is."""
    compile(text, "generated.py", "exec")
    ruff = ruff_command()
    assert ruff is not None, "ruff is a dev dependency of the project"
    done = subprocess.run(
        [*ruff, "format", "--isolated", "--diff", "--stdin-filename", "generated.py", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_get_without_queries_is_a_plain_django_db_test() -> None:
    test = http_test(request(path="/sync/", query="ms=0", sql_count=0))
    assert test.name == "test_get_sync_200"
    assert "@pytest.mark.django_db\ndef test_get_sync_200(client, django_assert_num_queries):" in (
        test.source
    )
    assert 'response = client.get("/sync/?ms=0")' in test.source
    assert "with django_assert_num_queries(0):" in test.source
    assert "assert response.status_code == 200" in test.source
    assert "Recorded by asgi-dash on 2025-11-30 at 00:00:00 UTC." in test.source
    assert test.imports == ("import pytest",)
    assert_formatted(module_of(test))


def test_post_form_logged_in_with_transaction_statements() -> None:
    sql = tuple(
        SqlQuery(text, 1000, False) for text in ("SELECT 1", "BEGIN", "INSERT ...", "COMMIT")
    )
    event = request(
        method="POST",
        path="/admin/demoapp/category/add/",
        status=302,
        user="demo",
        sql_count=4,
        sql=sql,
        request_headers=(
            ("host", "127.0.0.1:8000"),
            ("cookie", "sessionid=secret; csrftoken=abc"),
            ("x-csrftoken", "abc"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", "60"),
            ("accept", "text/html"),
            ("user-agent", "python-httpx/0.28.1"),
        ),
        request_body="csrfmiddlewaretoken=abc&name=Books+2&tag=a&tag=b&password=hunter2&_save=Save",
    )
    test = http_test(event)
    src = test.source
    assert src.startswith("@pytest.mark.django_db(transaction=True, serialized_rollback=True)\n")
    assert 'client.force_login(django_user_model.objects.get(username="demo"))' in src
    assert "with django_assert_num_queries(4):" in src
    assert "assert response.status_code == 302" in src
    # Secrets and transport headers are dropped; the CSRF token field too (the test Client does
    # not check CSRF); the password becomes a placeholder with a TODO.
    for gone in ("sessionid", "csrftoken", "x-csrftoken", "127.0.0.1", "content-length", "abc"):
        assert gone not in src
    assert '"accept": "text/html"' in src
    assert '"tag": ["a", "b"]' in src
    assert '"password": "TODO-secret"' in src
    assert "hunter2" not in src
    assert "# TODO: 'password' was a secret" in src
    assert_formatted(module_of(test))
    kept = http_test(event, GenOptions(keep_secrets=True))
    assert '"password": "hunter2"' in kept.source
    assert not kept.todos


def test_json_body_is_a_dict_literal_with_its_content_type() -> None:
    body = '{"name": "x", "api_key": "k-123", "items": [1, 2.5, true, null], "note": "it\'s"}'
    test = http_test(
        request(
            method="PUT",
            path="/api/thing/7/",
            request_headers=(("content-type", "application/json"),),
            request_body=body,
        )
    )
    assert 'content_type="application/json"' in test.source
    assert '"items": [1, 2.5, True, None]' in test.source
    assert '"api_key": "TODO-secret"' in test.source
    assert '"note": "it\'s"' in test.source
    assert test.source.count("client.put(") == 1
    assert_formatted(module_of(test))


def test_binary_truncated_and_custom_method_bodies() -> None:
    b64 = http_test(
        request(
            method="POST",
            path="/upload/",
            request_headers=(("content-type", "application/octet-stream"),),
            request_body="AAEC",
            request_body_b64=True,
        )
    )
    assert 'base64.b64decode("AAEC")' in b64.source
    assert "import base64" in b64.imports
    assert_formatted(module_of(b64))
    cut = http_test(
        request(method="POST", path="/big/", request_body="x" * 10, request_body_truncated=True)
    )
    assert "# TODO: the recorded body was cut" in cut.source
    assert cut.todos
    assert_formatted(module_of(cut))
    custom = http_test(request(method="PROPFIND", path="/dav/", request_body="<x/>"))
    assert (
        "client.generic(\n" in custom.source
        or 'client.generic("PROPFIND", "/dav/"' in custom.source
    )
    assert '"text/plain"' in custom.source
    assert_formatted(module_of(custom))


def test_server_error_gets_the_500_instead_of_the_exception() -> None:
    test = http_test(request(path="/error/", status=500))
    assert "client.raise_request_exception = False" in test.source
    assert "assert response.status_code == 500" in test.source


def test_needs_transaction_when_statements_were_not_all_kept() -> None:
    assert not needs_transaction(request(sql_count=1, sql=(SqlQuery("SELECT 1", 1, False),)))
    assert needs_transaction(request(sql_count=300, sql=(SqlQuery("SELECT 1", 1, False),)))
    assert needs_transaction(request(sql_count=1, sql=(SqlQuery("savepoint s1", 1, False),)))


def test_long_lines_split_black_style() -> None:
    long_path = "/a/" + "b" * 70 + "/"
    test = http_test(
        request(path=long_path, request_headers=(("user-agent", "Mozilla/5.0 " + "x" * 90),))
    )
    assert all(
        len(line) <= LINE_LENGTH
        for line in test.source.splitlines()
        if "x" * 90 not in line and "b" * 70 not in line
    )
    assert f'        response = client.get(\n            "{long_path}",\n' in test.source
    assert_formatted(module_of(test))


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'say "hi"',
        "it's",
        'both \' and ""',
        "back\\slash",
        "tab\tnew\nline\r",
        "\x00\x7f\u2028é",
    ],
)
def test_string_literals_round_trip_in_ruffs_quotes(text: str) -> None:
    lit = py_str(text)
    assert ast.literal_eval(lit) == text
    assert_formatted(f"x = {lit}\n")
    raw = text.encode("utf-8")
    assert ast.literal_eval(py_bytes(raw)) == raw


def test_layout_of_nested_calls_and_literals() -> None:
    node = call("f", literal({"k": ["v" * 30, "w" * 30, {"deep": "z" * 40}]}), flag="True")
    lines = render(node, "    ", "x = ")
    assert lines[0] == "    x = f("
    assert lines[-1] == "    )"
    assert_formatted("def g():\n" + "\n".join(lines) + "\n")
    assert render(call("f", "a", "b"), "", "y = ") == ["y = f(a, b)"]


def test_function_names() -> None:
    assert function_name("get", "/", "200") == "test_get_root_200"
    assert function_name("ws", "/ws/chat/lobby/") == "test_ws_chat_lobby"
    assert function_name("post", "/api/items/<weird>/!") == "test_post_api_items_weird"
    assert len(function_name("get", "/x" * 200)) <= 80


def test_csrf_refusal_static_and_cut_requests() -> None:
    refused = http_test(
        request(
            method="POST",
            path="/vote/",
            status=403,
            user="demo",
            answered_by="django.middleware.csrf.CsrfViewMiddleware",
            request_body="choice=1",
            request_headers=(("content-type", "application/x-www-form-urlencoded"),),
        )
    )
    assert "def test_post_vote_403(django_user_model, django_assert_num_queries):" in (
        refused.source
    )
    assert "client = Client(enforce_csrf_checks=True)" in refused.source
    assert "from django.test import Client" in refused.imports
    assert_formatted(module_of(refused))
    posted = http_test(request(method="POST", path="/vote/", status=302, request_body="a=1"))
    assert "skips CSRF checks by default" in posted.source
    assert "CSRF" not in http_test(request(path="/")).source
    static = http_test(request(path="/static/app.css", static=True))
    assert "# TODO: a static file" in static.source
    cut = http_test(request(path="/slow/", status=0, cancelled="client-gone"))
    assert "# TODO: the recorded request was cut short (client-gone)" in cut.source
    assert_formatted(module_of(cut))
