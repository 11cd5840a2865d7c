"""Malformed HTTP over a raw socket: a 400 (or a closed connection), then business as usual.

Each case is sent on its own loopback connection to the demo under ``asgi-dash --headless
--json``; the server must answer 400 or close (never a 2xx or a 500, never hang), and the next
valid request must be served and logged as usual. Over the whole battery no traceback may reach
the dashboard's stderr, the console events or the log events (no traceback storm).
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from tests.faults.conftest import EventPump
from tests.runtime.conftest import Event, HeadlessRun

pytestmark = pytest.mark.slow

HOST = b"Host: 127.0.0.1\r\n"
HUGE_HEADER = b"X-Big: " + b"a" * 200_000 + b"\r\n"  # 200 KB, past any parser's limit

MALFORMED: dict[str, bytes] = {
    "bad-request-line": b"GARBAGE\r\n\r\n",
    "request-line-without-target": b"GET\r\n\r\n",
    "huge-header": b"GET /sync/?ms=0 HTTP/1.1\r\n" + HOST + HUGE_HEADER + b"\r\n",
    "invalid-chunk-size": (
        b"POST /sync/?ms=0 HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"ZZZ\r\nhello\r\n0\r\n\r\n"
    ),
    "chunk-longer-than-announced": (
        b"POST /sync/?ms=0 HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"2\r\nhello world\r\n0\r\n\r\n"
    ),
    "non-numeric-content-length": b"POST /sync/ HTTP/1.1\r\n" + HOST + b"Content-Length: x\r\n\r\n",
    "binary-noise": b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    "tls-client-hello": bytes.fromhex("16030100a5010000a10303") + bytes(100),
}

#: How long one malformed exchange may take before the test calls it a hang.
EXCHANGE_TIMEOUT = 10.0


def exchange(port: int, payload: bytes) -> bytes:
    """Send ``payload`` on a fresh connection; everything read until the server closes it.

    A reset (the server closed with our bytes unread, as it may for a huge header) counts as a
    close; the bytes received before it are returned.
    """
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=EXCHANGE_TIMEOUT) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return received
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


async def test_malformed_requests_get_400_and_the_dashboard_keeps_serving(
    demo_pumped: tuple[HeadlessRun, EventPump, str],
) -> None:
    run, pump, url = demo_pumped
    port = int(url.rsplit(":", 1)[1])
    answers: dict[str, bytes] = {}
    async with httpx.AsyncClient(base_url=url, timeout=20) as client:
        for name, payload in MALFORMED.items():
            # A hang shows as socket.timeout (an OSError) from the thread, within the bound.
            answers[name] = await asyncio.to_thread(exchange, port, payload)
            status_line = answers[name].split(b"\r\n", 1)[0]
            assert answers[name] == b"" or status_line.startswith(b"HTTP/1.1 400 "), (
                name,
                answers[name][:300],
            )
            # The next valid request is served and logged as usual.
            marker = f"ms=0&after={name}"
            response = await client.get(f"/sync/?{marker}")
            assert response.status_code == 200, (name, response.text[:300])

            def is_marked(e: Event, m: str = marker) -> bool:
                return bool(e["event"] == "request" and e["query"] == m)

            logged = await pump.until(is_marked, 1, 20)
            assert len(logged) == 1 and logged[0]["status"] == 200, (name, logged)
            assert logged[0]["view"] == "demoapp.views.sync_view"
    assert sum(1 for a in answers.values() if a) >= len(MALFORMED) // 2, answers  # mostly 400s

    # No traceback storm: nothing with a traceback was logged, printed or written to stderr.
    events = await pump.settle(lambda e: True, quiet=1.0)
    with_traceback = [
        e
        for e in events
        if (e["event"] == "log" and e.get("exc_text"))
        or (e["event"] == "console" and "Traceback" in e.get("text", ""))
    ]
    assert not with_traceback, with_traceback[:3]
    warnings = [e for e in events if e["event"] == "log" and e["level"] in ("WARNING", "ERROR")]
    assert len(warnings) <= len(MALFORMED), warnings  # at most one line per bad request
    # Each malformed request produced at most one request event, and none claims success or a
    # server error.
    bad_requests = [
        e for e in events if e["event"] == "request" and "after=" not in e.get("query", "")
    ]
    assert len(bad_requests) <= len(MALFORMED), bad_requests
    assert all(e["status"] < 200 or 400 <= e["status"] < 500 for e in bad_requests), bad_requests
    await pump.close()
    assert await run.stop() == 0
    stderr = await run._stderr()
    assert "Traceback" not in stderr, stderr[-2000:]
