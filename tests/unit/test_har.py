"""Unit tests for the HAR 1.2 export: structure, redaction by default, opt-out."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from asgi_dashboard.events import RequestFinished
from asgi_dashboard.har import build_har, default_filename, write_har
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
        assert req["url"].startswith("http://")
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
