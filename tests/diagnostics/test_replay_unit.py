"""Replay without a server: the rebuilt request, header and body diffs, and their formatting."""

from __future__ import annotations

import base64

import httpx
import pytest

from asgi_dashboard.diagnostics.replay import (
    REPLAY_HEADER,
    ReplayError,
    ReplayResponse,
    build_request,
    diff_bodies,
    diff_headers,
    diff_response,
    format_diff,
    replay,
)
from asgi_dashboard.events import RequestFinished

MS = 1_000_000


def captured(**kw: object) -> RequestFinished:
    values: dict[str, object] = dict(
        id="1-7",
        method="POST",
        path="/api/items/",
        query="page=2",
        status=200,
        total_ns=12 * MS,
        request_headers=(
            ("host", "127.0.0.1:8000"),
            ("content-type", "application/json"),
            ("content-length", "9"),
            ("connection", "keep-alive"),
            ("cookie", "sessionid=abc"),
            ("x-asgi-dash-probe", "r:0"),
        ),
        request_body='{"a": 1}\n',
        response_headers=(("content-type", "application/json"), ("date", "x")),
        response_body='{"name": "old", "n": 1}',
        response_size=23,
    )
    values.update(kw)
    return RequestFinished(**values)  # type: ignore[arg-type]


def test_build_request_drops_hop_by_hop_and_keeps_cookies() -> None:
    req = build_request(captured(), "http://127.0.0.1:9999/")
    assert req.method == "POST"
    assert req.url == "http://127.0.0.1:9999/api/items/?page=2"
    names = [k for k, _ in req.headers]
    assert names == ["content-type", "cookie", REPLAY_HEADER]
    assert dict(req.headers)[REPLAY_HEADER] == "1-7"
    assert req.body == b'{"a": 1}\n'


def test_build_request_body_base64_and_truncated() -> None:
    raw = bytes(range(256))
    req = build_request(
        captured(request_body=base64.b64encode(raw).decode(), request_body_b64=True), "http://h"
    )
    assert req.body == raw
    with pytest.raises(ReplayError, match="truncated"):
        build_request(captured(request_body_truncated=True), "http://h")


def test_diff_headers_groups_and_ignores_volatile() -> None:
    changes, volatile = diff_headers(
        (("Vary", "Cookie"), ("vary", "Accept"), ("date", "a"), ("x-old", "1")),
        (("vary", "Cookie, Accept"), ("date", "b"), ("x-new", "2"), ("server", "uvicorn")),
    )
    assert [(c.name, c.before, c.after) for c in changes] == [
        ("x-new", None, "2"),
        ("x-old", "1", None),
    ]
    assert volatile == ("date", "server")


def test_json_bodies_diff_by_line_and_diff_is_bounded() -> None:
    lines = diff_bodies('{"b": 1, "a": "old"}', '{"a": "new", "b": 1}')
    assert lines[:2] == ("--- original", "+++ replay")
    assert '-  "a": "old",' in lines and '+  "a": "new",' in lines
    assert '   "b": 1' in lines
    many = diff_bodies("\n".join(map(str, range(1000))), "", limit=10)
    assert len(many) == 11 and many[-1].startswith("... ")


def test_diff_response_and_format() -> None:
    original = captured()
    response = ReplayResponse(
        201,
        (("content-type", "application/json"), ("date", "y"), ("server", "uvicorn")),
        b'{"name": "new", "n": 1}',
        5 * MS,
    )
    diff = diff_response(original, response, total_ns_after=3 * MS)
    assert not diff.same and not diff.body_same and diff.header_changes == ()
    assert format_diff(diff).splitlines() == [
        "replay of POST /api/items/?page=2 [1-7]: response changed",
        "  status 200 -> 201",
        "  time: original 12.0 ms (server), replay 5.0 ms (client), 3.0 ms (server)",
        "  (changed as always: date, server)",
        "  body: changed (23 -> 23 bytes)",
        "  --- original",
        "  +++ replay",
        "  @@ -1,4 +1,4 @@",
        "   {",
        '     "n": 1,',
        '  -  "name": "old"',
        '  +  "name": "new"',
        "   }",
    ]


def test_truncated_original_is_compared_on_its_prefix() -> None:
    original = captured(response_body="abc", response_body_truncated=True, response_size=10)
    diff = diff_response(original, ReplayResponse(200, (), b"abcdefghij", 1))
    assert diff.body_same and "first 3 bytes" in diff.body_note


def test_binary_bodies_are_compared_not_diffed() -> None:
    original = captured(
        response_body=base64.b64encode(b"\x00\x01").decode(), response_body_b64=True
    )
    diff = diff_response(original, ReplayResponse(200, original.response_headers, b"\x00\x02", 1))
    assert not diff.body_same and diff.body_diff == () and "binary" in diff.body_note


async def test_replay_sends_what_was_captured() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"name": "old", "n": 1}')

    diff = await replay(captured(), "http://127.0.0.1:1", transport=httpx.MockTransport(handler))
    (request,) = seen
    assert request.method == "POST" and request.url.query == b"page=2"
    assert request.content == b'{"a": 1}\n' and request.headers["cookie"] == "sessionid=abc"
    assert "x-asgi-dash-probe" not in request.headers
    assert diff.status_after == 200 and diff.body_same


def test_json_formatting_only_difference_is_explained() -> None:
    diff = diff_response(captured(), ReplayResponse(200, (), b'{"n":1,"name":"old"}', 1))
    assert not diff.body_same and diff.body_diff == () and "JSON formatting" in diff.body_note
