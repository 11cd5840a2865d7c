"""Unit tests for the HAR 1.2 export: structure, redaction by default, opt-out."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

from asgi_dashboard.events import RequestFinished, WsFrame
from asgi_dashboard.har import WsExport, build_har, default_filename, write_har
from asgi_dashboard.model.rows import WsConnection
from asgi_dashboard.redact import REDACTED
from tests.ui.scripted import sample_requests

BASE = "http://127.0.0.1:8000"


def requests() -> list[RequestFinished]:
    return [e for e in sample_requests() if isinstance(e, RequestFinished)]


def assert_valid_har(doc: dict[str, Any]) -> None:
    """The required fields of HAR 1.2 (log, creator, entries, request, response, timings)."""
    log = doc["log"]
    assert log["version"] == "1.2"
    assert set(log["creator"]) >= {"name", "version"}
    assert isinstance(log["entries"], list)
    for entry in log["entries"]:
        datetime.datetime.fromisoformat(entry["startedDateTime"])
        assert entry["startedDateTime"].endswith("+00:00")
        assert isinstance(entry["time"], int | float) and entry["time"] >= 0
        req, resp, timings = entry["request"], entry["response"], entry["timings"]
        for key in (
            "method",
            "url",
            "httpVersion",
            "cookies",
            "headers",
            "queryString",
            "headersSize",
            "bodySize",
        ):
            assert key in req, key
        assert req["url"].startswith(("http://", "ws://", "wss://"))
        for key in (
            "status",
            "statusText",
            "httpVersion",
            "cookies",
            "headers",
            "content",
            "redirectURL",
            "headersSize",
            "bodySize",
        ):
            assert key in resp, key
        assert {"size", "mimeType"} <= set(resp["content"])
        for key in ("send", "wait", "receive"):
            assert timings[key] >= 0
        for key in ("blocked", "dns", "connect", "ssl"):
            assert timings[key] == -1 or timings[key] >= 0
        for header in req["headers"] + resp["headers"]:
            assert set(header) == {"name", "value"}
        assert "cache" in entry


def test_structure_is_valid_har_1_2() -> None:
    doc = build_har(requests(), BASE)
    assert_valid_har(doc)
    assert len(doc["log"]["entries"]) == 7
    json.dumps(doc)  # serialisable


def test_entry_contents() -> None:
    doc = build_har(requests(), BASE)
    vote = doc["log"]["entries"][5]
    assert vote["request"]["method"] == "POST"
    assert vote["request"]["url"] == f"{BASE}/polls/1/vote/?next=%2Fpolls%2F"
    assert vote["request"]["queryString"] == [{"name": "next", "value": "/polls/"}]
    assert vote["request"]["postData"]["text"] == "choice=2"
    assert vote["response"]["redirectURL"] == "/polls/1/results/"
    assert vote["response"]["statusText"] == "Found"
    assert vote["time"] == 18.0 and vote["timings"]["wait"] == 18.0
    assert vote["_asgiDash"]["view"] == "polls.views.vote"
    api = doc["log"]["entries"][2]
    assert api["response"]["content"]["mimeType"] == "application/json"


def test_sensitive_headers_redacted_by_default() -> None:
    doc = build_har(requests(), BASE)
    vote = doc["log"]["entries"][5]
    headers = {h["name"]: h["value"] for h in vote["request"]["headers"]}
    assert headers["authorization"] == REDACTED
    assert headers["cookie"] == REDACTED
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert vote["request"]["cookies"] == [{"name": "sessionid", "value": REDACTED}]
    resp_headers = {h["name"]: h["value"] for h in vote["response"]["headers"]}
    assert resp_headers["set-cookie"] == REDACTED
    assert vote["response"]["cookies"][0]["value"] == REDACTED
    assert "s3cret" not in json.dumps(doc) and "abc123" not in json.dumps(doc)


def test_redaction_opt_out_keeps_values() -> None:
    doc = build_har(requests(), BASE, redact=False)
    vote = doc["log"]["entries"][5]
    headers = {h["name"]: h["value"] for h in vote["request"]["headers"]}
    assert headers["authorization"] == "Bearer s3cret"
    assert vote["request"]["cookies"] == [{"name": "sessionid", "value": "abc123"}]
    cookie = vote["response"]["cookies"][0]
    assert cookie == {"name": "messages", "value": "xyz", "path": "/", "httpOnly": True}


def test_write_har_roundtrip(tmp_path: Path) -> None:
    path, count = write_har(tmp_path / "sub" / "out.har", requests(), BASE)
    assert count == 7 and path.is_file()
    assert_valid_har(json.loads(path.read_text()))
    assert not list(tmp_path.glob("**/*.tmp"))


def test_default_filename() -> None:
    name = default_filename(datetime.datetime(2025, 1, 2, 3, 4, 5))
    assert name == "./asgi-dash-20250102-030405.har"


def test_cookie_expires_is_iso_8601() -> None:
    base = requests()[5]
    cookies = (
        ("set-cookie", "a=1; expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/"),
        ("set-cookie", "b=2; expires=not a date"),
    )
    request = dataclasses.replace(base, response_headers=cookies)
    doc = build_har([request], BASE, redact=False)
    a, b = doc["log"]["entries"][0]["response"]["cookies"]
    assert a == {"name": "a", "value": "1", "expires": "2015-10-21T07:28:00+00:00", "path": "/"}
    assert datetime.datetime.fromisoformat(a["expires"]).tzinfo is not None
    assert b == {"name": "b", "value": "2"}  # an unreadable date is left out, not passed on


def ws_export() -> WsExport:
    conn = WsConnection(
        id="w1",
        ts=1_700_000_000.0,
        path="/ws/chat/lobby/",
        query="v=1",
        request_headers=(("cookie", "sessionid=abc123"), ("origin", "http://127.0.0.1:8000")),
        accepted=True,
        consumer="chat.consumers.ChatConsumer",
        closed=True,
        code=1000,
        by="client",
        duration_ns=2_500_000_000,
        frames_in=2,
        frames_out=1,
    )
    frames = (
        WsFrame(ts=1_700_000_000.5, id="w1", direction="in", size=17, preview='{"message":"hi"}'),
        WsFrame(ts=1_700_000_000.6, id="w1", direction="out", size=3, preview="hi!"),
        WsFrame(ts=1_700_000_001.0, id="w1", direction="in", size=2, binary=True, preview="0102"),
    )
    return WsExport(conn, frames)


def test_websocket_connection_exported_as_chrome_does() -> None:
    doc = build_har([*requests()[:2], ws_export()], BASE)
    assert_valid_har(doc)
    entry = doc["log"]["entries"][2]
    assert entry["_resourceType"] == "websocket"
    assert entry["request"]["url"] == "ws://127.0.0.1:8000/ws/chat/lobby/?v=1"
    assert entry["request"]["method"] == "GET"
    assert entry["response"]["status"] == 101
    assert entry["response"]["statusText"] == "Switching Protocols"
    assert entry["time"] == 2500.0
    assert entry["_webSocketMessages"] == [
        {"type": "send", "time": 1_700_000_000.5, "opcode": 1, "data": '{"message":"hi"}'},
        {"type": "receive", "time": 1_700_000_000.6, "opcode": 1, "data": "hi!"},
        {"type": "send", "time": 1_700_000_001.0, "opcode": 2, "data": "0102"},
    ]
    assert entry["request"]["cookies"] == [{"name": "sessionid", "value": REDACTED}]
    assert "abc123" not in json.dumps(doc)
    assert entry["_asgiDash"]["consumer"] == "chat.consumers.ChatConsumer"
    assert entry["_asgiDash"]["closeCode"] == 1000


def test_websocket_rejected_and_frames_dropped() -> None:
    export = ws_export()
    conn = dataclasses.replace(export.connection, accepted=False, status=403, frames_in=600)
    entry = build_har([WsExport(conn, export.frames)], "https://example.test/")["log"]["entries"][0]
    assert entry["request"]["url"].startswith("wss://example.test/ws/")
    assert entry["response"]["status"] == 403
    assert "3 of 601 frames kept" in entry["comment"]
