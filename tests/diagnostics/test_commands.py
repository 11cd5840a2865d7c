"""``asgi-dash probe`` / ``asgi-dash replay`` as a user runs them (real processes, bounded)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from asgi_dashboard.diagnostics.capture import read_events
from asgi_dashboard.events import RequestFinished, ServerStarted, encode
from tests.runtime.conftest import HeadlessRun


def asgi_dash(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asgi_dashboard", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_probe_refuses_a_remote_host_before_sending() -> None:
    done = asgi_dash("probe", "http://192.0.2.1/")
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr


def test_probe_against_a_dead_port_says_no_request_succeeded() -> None:
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = asgi_dash("probe", f"http://127.0.0.1:{port}/", "-n", "5", "-c", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no successful request to / (ConnectError" in done.stdout
    rows = {line[:24].strip(): line[24:].split() for line in done.stdout.splitlines()}
    assert rows["client: requests/s"] == ["-"] and rows["client: p50"] == ["-"]
    assert "client: measured by the probe" in done.stdout
    as_json = asgi_dash("probe", f"http://127.0.0.1:{port}/", "-n", "2", "--json")
    assert as_json.returncode == 1 and "no successful request" in as_json.stderr
    (result,) = json.loads(as_json.stdout)["results"]
    assert result["p50_ns"] is None and result["requests_per_s"] is None


def test_probe_prints_the_table(demo_server: tuple[HeadlessRun, str]) -> None:
    _, url = demo_server
    done = asgi_dash("probe", f"{url}/async/?ms=5", "-n", "20", "-c", "5", "--json")
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["ok"] == 20 and result["errors"] == 0 and result["p50_ns"] >= 5_000_000


def test_replay_command_reads_an_event_capture(
    demo_server: tuple[HeadlessRun, str], tmp_path: Path
) -> None:
    _, url = demo_server
    capture = tmp_path / "events.jsonl"
    original = RequestFinished(
        id="1-1",
        method="GET",
        path="/async/",
        query="ms=0",
        status=200,
        response_headers=(("content-type", "application/json"),),
        response_body='{"view": "async", "slept_ms": 0, "thread": "MainThread"}',
    )
    started = ServerStarted(url=url, pid=1, mode="child", host="127.0.0.1", port=1)
    capture.write_bytes(encode(started) + b"not json\n" + encode(original))
    assert [type(e) for e in read_events(capture)] == [ServerStarted, RequestFinished]
    done = asgi_dash("replay", "--events", str(capture), "1-1")
    assert "GET /async/?ms=0" in done.stdout, done.stderr
    assert done.returncode == 1  # headers differ: the hand-made capture lists only content-type
    missing = asgi_dash("replay", "--events", str(capture), "9-9")
    assert missing.returncode == 2 and "no request" in missing.stderr
