"""Unit tests for the shared text formatting (durations, view names, sparklines, curl)."""

from __future__ import annotations

import shlex

import pytest

from asgi_dashboard.formatting import (
    bar,
    curl_command,
    duration,
    ms,
    short_view,
    sparkline,
    uptime,
)
from tests.ui.scripted import request


@pytest.mark.parametrize(
    ("view", "width", "expected"),
    [
        ("polls.views.index", 32, "polls.views.index"),
        ("polls.views.broken", 17, "…views.broken"),
        ("project.apps.polls.api.views.QuestionViewSet", 32, "project.….views.QuestionViewSet"),
        ("project.apps.polls.api.views.QuestionViewSet", 20, "…QuestionViewSet"),
        ("a.VeryLongFunctionNameThatIsTooLong", 12, "…atIsTooLong"),
    ],
)
def test_short_view(view: str, width: int, expected: str) -> None:
    assert short_view(view, width) == expected
    assert len(short_view(view, width)) <= width


def test_durations_and_uptime() -> None:
    assert ms(None) == "-" and ms(12_345_678) == "12.3" and ms(1_234_000_000) == "1,234.0"
    assert duration(850_000) == "850 µs"
    assert duration(12_300_000) == "12.3 ms"
    assert duration(1_200_000_000) == "1.20 s"
    assert uptime(42) == "42s" and uptime(185) == "3m 05s" and uptime(7620) == "2h 07m"
    assert uptime(3 * 86400 + 4 * 3600) == "3d 04h"


def test_sparkline_and_bar() -> None:
    assert sparkline([]) == ""
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([1, 8], width=12) == "▂█"
    assert len(sparkline(range(100), width=12)) == 12
    assert bar(5, 10, 4) == "██  "
    assert bar(0, 0, 3) == "   "


def test_curl_command_round_trips_through_a_shell() -> None:
    req = request(
        1,
        method="POST",
        path="/polls/1/vote/",
        query="next=/x",
        request_headers=(("host", "h"), ("cookie", "a=b; c='d'"), ("content-type", "text/plain")),
        request_body="it's",
    )
    words = shlex.split(curl_command(req, "http://127.0.0.1:8000/"))
    assert words[:4] == ["curl", "-X", "POST", "http://127.0.0.1:8000/polls/1/vote/?next=/x"]
    assert "host: h" not in words
    assert words[words.index("--data-binary") + 1] == "it's"
    assert "cookie: a=b; c='d'" in words


def test_curl_command_skips_binary_body() -> None:
    req = request(1, method="PUT", request_body="AAEC", request_body_b64=True)
    assert "--data-binary" not in curl_command(req, "http://x")
    assert "body not included" in curl_command(req, "http://x")
