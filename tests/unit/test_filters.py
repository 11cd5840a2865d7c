"""Unit tests for the filter language: each term, combinations, negation, and error messages."""

from __future__ import annotations

import contextlib

import pytest

from asgi_dashboard.filters import FilterError, parse
from asgi_dashboard.model import Dashboard, LogItem
from tests.ui.scripted import sample_requests


@pytest.fixture(scope="module")
def items() -> list[LogItem]:
    dash = Dashboard()
    dash.ingest(sample_requests())
    return list(dash.history)


def paths(items: list[LogItem], text: str) -> list[str]:
    f = parse(text)
    return [item.entry.path for item in items if f.matches(item)]


ALL = [
    "/polls/",
    "/polls/1/",
    "/api/stats",
    "/static/app.css",
    "/nope",
    "/polls/1/vote/",
    "/async/broken/",
    "/ws/chat/lobby/",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL),
        ("   ", ALL),
        ("polls", ["/polls/", "/polls/1/", "/polls/1/vote/", "/async/broken/"]),
        ("DetailView", ["/polls/1/"]),
        ("next=", ["/polls/1/vote/"]),
        ("status:5xx", ["/async/broken/"]),
        ("status:404", ["/nope"]),
        ("status:3xx,404", ["/nope", "/polls/1/vote/"]),
        ("status:>=400", ["/nope", "/async/broken/"]),
        ("status:300-499", ["/nope", "/polls/1/vote/"]),
        ("status:101", ["/ws/chat/lobby/"]),
        ("kind:async", ["/api/stats", "/async/broken/"]),
        ("kind:sync", ["/polls/", "/polls/1/", "/polls/1/vote/"]),
        ("kind:static", ["/static/app.css"]),
        ("kind:ws", ["/ws/chat/lobby/"]),
        ("view:polls.views", ["/polls/", "/polls/1/", "/polls/1/vote/", "/async/broken/"]),
        ("view:chat", ["/ws/chat/lobby/"]),
        ("method:POST", ["/polls/1/vote/"]),
        ("method:post,ws", ["/polls/1/vote/", "/ws/chat/lobby/"]),
        ("path:/api/", ["/api/stats"]),
        ("slow:>200ms", ["/async/broken/", "/ws/chat/lobby/"]),
        ("slow:30", ["/polls/1/", "/async/broken/", "/ws/chat/lobby/"]),
        ("slow:<2ms", ["/static/app.css"]),
        ("slow:>1s", ["/ws/chat/lobby/"]),
        ("slow:>=35000us", ["/polls/1/", "/async/broken/", "/ws/chat/lobby/"]),
        ("sql:>5", ["/polls/1/"]),
        ("sql:=3", ["/polls/1/vote/"]),
        ("ws", ["/ws/chat/lobby/"]),
        ("error", ["/async/broken/"]),
        ('"error"', []),
        ("polls kind:sync sql:>2", ["/polls/1/", "/polls/1/vote/"]),
        ("-kind:static -ws -polls", ["/api/stats", "/nope"]),
        ("!status:2xx", ["/nope", "/polls/1/vote/", "/async/broken/", "/ws/chat/lobby/"]),
    ],
)
def test_terms(items: list[LogItem], text: str, expected: list[str]) -> None:
    assert paths(items, text) == expected


def test_quoted_text_with_spaces(items: list[LogItem]) -> None:
    assert paths(items, '"polls/1"') == ["/polls/1/", "/polls/1/vote/"]


def test_wants_static_only_for_positive_kind_static() -> None:
    assert parse("kind:static").wants_static
    assert parse("kind:sync,static").wants_static
    assert not parse("-kind:static").wants_static
    assert not parse("static").wants_static
    assert parse("").is_empty


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("status:abc", "status:abc is not a status"),
        ("status:", '"status:" needs a value'),
        ("status:599-500", "backwards"),
        ("kind:fast", "kind:fast is not a kind"),
        ("slow:fast", "slow:fast is not a comparison"),
        ("slow:>10min", 'unknown unit "min"'),
        ("sql:>10ms", "sql:>10ms is not a comparison"),
        ("method:P0ST", "not an HTTP method"),
        ("colour:red", 'unknown field "colour:"'),
        ('"unclosed', "unclosed quote"),
    ],
)
def test_invalid_input_says_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        parse(text)
    assert fragment in str(info.value)


def test_error_position_points_at_the_term() -> None:
    with pytest.raises(FilterError) as info:
        parse("polls kind:fast")
    assert info.value.position >= 6
    assert "column" in str(info.value)


@pytest.mark.parametrize("text", ["::", ":", "-", "a:b:c", "status::", "slow:>", '""', '"a" b:'])
def test_garbage_never_raises_anything_but_filter_error(text: str) -> None:
    with contextlib.suppress(FilterError):
        parse(text)


def test_view_filter_matches_a_request_a_middleware_refused() -> None:
    from tests.ui.scripted import request

    dash = Dashboard()
    csrf = "django.middleware.csrf.CsrfViewMiddleware"
    dash.ingest(
        [
            request(1, method="POST", status=403, view_ns=None, answered_by=csrf),
            request(2, path="/nope/", status=404, view=None, kind=None, route=None),
        ]
    )
    log = list(dash.history)
    assert paths(log, "view:polls.views.index") == ["/polls/"]
    assert paths(log, "polls.views") == ["/polls/"]
    assert paths(log, "-view:polls") == ["/nope/"]
