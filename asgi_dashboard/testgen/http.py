"""A pytest test that replays one recorded HTTP request with Django's test ``Client``.

The test uses pytest-django's ``client`` and ``django_assert_num_queries`` fixtures and asserts
the recorded status and number of queries.

Why the recorded count holds in the test: asgi-dash counts every statement Django records for
the request (``CaptureQueriesContext`` records the same ones, the fixture uses it), including
``BEGIN``/``COMMIT`` of ``transaction.atomic`` blocks (session saves, ``ATOMIC_REQUESTS``, the
admin). Under pytest-django's default ``django_db`` each test runs inside a transaction, so those
blocks become ``SAVEPOINT``/``RELEASE SAVEPOINT`` and the count could differ by backend. So a
request whose statements include transaction control gets ``django_db(transaction=True)`` (no
wrapping transaction: the same statements as live), with ``serialized_rollback=True`` so data
created by migrations (seed rows, users) is restored after each test's flush. A request without
any keeps the cheaper default. A login is ``force_login`` *before* the counted block: the request
then loads the session and the user from the database exactly as the recorded one (with its
session cookie) did. What cannot match: per-process caches warm in the live server and cold in
the test (``ContentType.objects.get_for_model``, cached templates do not query), said in the
generated comment.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from ..events import RequestFinished
from .layout import INDENT, Atom, Brackets, Node, Pair, call, literal, py_str, statement
from .names import (
    DROPPED_FIELDS,
    SECRET_FIELD,
    SECRET_PLACEHOLDER,
    GeneratedTest,
    GenOptions,
    content_type_of,
    docstring,
    function_name,
    kept_headers,
    recorded_at,
)

_TRANSACTION_SQL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION")
_SHORTCUTS = {"GET", "HEAD", "OPTIONS", "TRACE", "POST", "PUT", "PATCH", "DELETE"}
_NO_BODY = {"GET", "HEAD", "TRACE"}
_SAFE = {"GET", "HEAD", "OPTIONS", "TRACE"}


def needs_transaction(event: RequestFinished) -> bool:
    """Whether the test must run without a wrapping transaction to issue the same statements."""
    if event.sql_count != len(event.sql):
        return True  # statements not kept: assume the worst
    return any(q.sql.lstrip().upper().startswith(_TRANSACTION_SQL) for q in event.sql)


def http_test(event: RequestFinished, options: GenOptions | None = None) -> GeneratedTest:
    """The test function that replays ``event``."""
    options = options or GenOptions()
    todos = _event_todos(event)
    data, ctype, imports = _body(event, options, todos)
    transactional = needs_transaction(event)
    csrf = _refused_by_csrf(event)
    fixtures = [] if csrf else ["client"]
    fixtures += ["django_user_model"] if event.user else []
    fixtures.append("django_assert_num_queries")
    name = function_name(event.method.lower(), event.path, str(event.status))
    i1, i2 = INDENT, INDENT * 2
    lines = [_mark(transactional)]
    lines.append(
        statement(Brackets(f"def {name}", "(", tuple(map(Atom, fixtures)), ")"), "", "", ":")
    )
    target = event.path + (f"?{event.query}" if event.query else "")
    lines.append(docstring(_summary(event, target), recorded_at(event.ts), i1))
    lines += [f"{i1}# TODO: {todo}" for todo in todos]
    lines += _client_setup(event, csrf, i1)
    lines += _count_comment(transactional, i1)
    lines.append(f"{i1}with django_assert_num_queries({event.sql_count}):")
    request = _request_call(event, target, data, ctype)
    lines.append(statement(request, i2, "response = "))
    lines.append(f"{i1}assert response.status_code == {event.status}")
    imports = ("import pytest", *imports, *(["from django.test import Client"] if csrf else []))
    return GeneratedTest(name, "\n".join(lines), imports, tuple(todos))


def _refused_by_csrf(event: RequestFinished) -> bool:
    return (event.answered_by or "").endswith("CsrfViewMiddleware")


def _event_todos(event: RequestFinished) -> list[str]:
    """What the test cannot reproduce as recorded."""
    todos: list[str] = []
    if event.static:
        todos.append(
            "a static file: asgi-dash served it (as runserver does); the URLconf, which the "
            "test Client uses, does not."
        )
    if event.cancelled:
        todos.append(
            f"the recorded request was cut short ({event.cancelled}): the status is what "
            "the client got, not what the view answers."
        )
    return todos


def _client_setup(event: RequestFinished, csrf: bool, i1: str) -> list[str]:
    """Lines before the request: the client (CSRF), the login, exceptions as a 500."""
    lines: list[str] = []
    if csrf:
        lines.append(f"{i1}# Refused live by CsrfViewMiddleware: this client checks CSRF too.")
        lines.append(f"{i1}client = Client(enforce_csrf_checks=True)")
    elif event.method.upper() not in _SAFE:
        lines.append(f"{i1}# Django's test Client skips CSRF checks by default: no token is sent.")
    if event.user:
        lines.append(f"{i1}# Logged in as the recorded user (force_login: no password, no cookie).")
        user = call("django_user_model.objects.get", username=py_str(event.user))
        lines.append(statement(call("client.force_login", user), i1))
    if event.status >= 500:
        lines.append(f"{i1}# The recorded request failed: get the 500 instead of the exception.")
        lines.append(f"{i1}client.raise_request_exception = False")
    return lines


def _mark(transactional: bool) -> str:
    if transactional:
        return "@pytest.mark.django_db(transaction=True, serialized_rollback=True)"
    return "@pytest.mark.django_db"


def _summary(event: RequestFinished, target: str) -> str:
    queries = "1 query" if event.sql_count == 1 else f"{event.sql_count} queries"
    who = f" as {event.user}" if event.user else ""
    return f"{event.method} {target}{who}: {event.status}, {queries}."


def _count_comment(transactional: bool, indent: str) -> list[str]:
    """Why the count is the recorded one."""
    if transactional:
        return [
            f"{indent}# The count Django recorded live. transaction=True: the same BEGIN/COMMIT",
            f"{indent}# as live, not the SAVEPOINTs of a test transaction.",
        ]
    return [f"{indent}# The count Django recorded live (no transaction control in it)."]


def _request_call(event: RequestFinished, target: str, data: Node | None, ctype: str) -> Node:
    method = event.method.upper()
    args: list[Node] = [Atom(py_str(target))]
    if method in _SHORTCUTS:
        name = f"client.{method.lower()}"
    else:
        name = "client.generic"
        args.insert(0, Atom(py_str(method)))
    if data is not None:
        args.append(data)
    if ctype:
        args.append(Pair("content_type", Atom(py_str(ctype))))
    headers = kept_headers(event.request_headers)
    if headers:
        args.append(Pair("headers", literal(headers)))
    return Brackets(name, "(", tuple(args), ")")


def _body(
    event: RequestFinished, options: GenOptions, todos: list[str]
) -> tuple[Node | None, str, tuple[str, ...]]:
    """(data argument, content_type argument, extra imports) for the recorded body."""
    ctype = content_type_of(event.request_headers)
    if event.method.upper() in _NO_BODY or not (event.request_body or event.request_body_truncated):
        return None, "", ()
    if event.request_body_truncated:
        todos.append(
            "the recorded body was cut at its preview size and is not replayed; paste it here."
        )
        return None, ctype, ()
    if event.request_body_b64:
        raw = Atom(f"base64.b64decode({py_str(event.request_body)})")
        return raw, ctype or "application/octet-stream", ("import base64",)
    low = ctype.lower()
    if "json" in low:
        try:
            value = json.loads(event.request_body)
        except ValueError:
            pass
        else:
            return literal(_scrub_json(value, options, todos)), ctype, ()
    if "x-www-form-urlencoded" in low:
        pairs = _scrub_form(parse_qsl(event.request_body, keep_blank_values=True), options, todos)
        if event.method.upper() == "POST":
            # request.POST is the same; the test Client sends a dict as multipart form data.
            return literal(_as_dict(pairs)), "", ()
        return Atom(py_str(urlencode(pairs))), ctype, ()
    return Atom(py_str(event.request_body)), ctype or "text/plain", ()


def _as_dict(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """Form pairs as the dict the test Client takes (a list for a repeated field)."""
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


def _scrub_form(
    pairs: list[tuple[str, str]], options: GenOptions, todos: list[str]
) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in DROPPED_FIELDS:
            continue
        if not options.keep_secrets and SECRET_FIELD.search(key) and value:
            todos.append(
                f"{key!r} was a secret: put the real value in place of {SECRET_PLACEHOLDER}."
            )
            value = SECRET_PLACEHOLDER
        kept.append((key, value))
    return kept


def _scrub_json(value: object, options: GenOptions, todos: list[str]) -> object:
    if options.keep_secrets:
        return value
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            if SECRET_FIELD.search(str(key)) and isinstance(item, str) and item:
                todos.append(
                    f"{key!r} was a secret: put the real value in place of {SECRET_PLACEHOLDER}."
                )
                out[key] = SECRET_PLACEHOLDER
            else:
                out[key] = _scrub_json(item, options, todos)
        return out
    if isinstance(value, list):
        return [_scrub_json(item, options, todos) for item in value]
    return value


__all__ = ["http_test", "needs_transaction"]
