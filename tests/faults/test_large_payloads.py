"""A 10 MB request body and 1 MB WebSocket frames: served, one event each, previews bounded.

The instrumentation keeps bounded previews (``BODY_PREVIEW`` of a body, ``FRAME_PREVIEW`` of a
text frame, hex of ``BINARY_PREVIEW`` bytes of a binary one, see ``instrument/previews.py``); here
the bound is checked where a user meets it, in the ``--json`` event of a real server, along with
the size of the whole event line.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
from typing import Any

import httpx
import pytest
import websockets

from asgi_dashboard.instrument.previews import BINARY_PREVIEW, BODY_PREVIEW, FRAME_PREVIEW
from tests.faults.conftest import ORIGIN, EventPump
from tests.runtime.conftest import HeadlessRun

pytestmark = pytest.mark.slow

MB = 1024 * 1024
#: A whole event line for a huge payload: its previews plus headers and timings.
EVENT_LINE_BOUND = 2 * BODY_PREVIEW + 16 * 1024


def csrf_pair() -> tuple[dict[str, str], dict[str, str]]:
    """Cookie and header that pass Django's CsrfViewMiddleware for a POST without a form.

    The cookie holds the unmasked 32-character secret (``CSRF_SECRET_LENGTH``); a header token
    of the same 32 characters matches it (``django/middleware/csrf.py``, ``_does_token_match``).
    """
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return {"csrftoken": secret}, {"X-CSRFToken": secret}


async def test_a_10_mb_request_body_is_served_with_one_bounded_event(
    demo_pumped: tuple[HeadlessRun, EventPump, str],
) -> None:
    _, pump, url = demo_pumped
    cookies, headers = csrf_pair()
    body = b"0123456789abcdef" * (10 * MB // 16)
    async with httpx.AsyncClient(base_url=url, timeout=60, cookies=cookies) as client:
        response = await client.post(
            "/sync/?ms=0&big=1",
            content=body,
            headers={**headers, "Content-Type": "text/plain"},
        )
    assert response.status_code == 200, response.text[:500]
    assert response.json()["view"] == "sync"

    found = await pump.until(lambda e: e["event"] == "request" and "big=1" in e["query"], 1, 30)
    assert len(found) == 1, found
    # ... and no second one turns up later.
    assert len(await pump.settle(lambda e: e["event"] == "request", quiet=1.0)) == 1
    event = found[0]
    assert event["method"] == "POST" and event["status"] == 200
    assert event["view"] == "demoapp.views.sync_view"
    assert ["content-length", str(len(body))] in event["request_headers"]
    assert event["request_body_truncated"] is True
    assert not event["request_body_b64"]
    assert event["request_body"] == body[:BODY_PREVIEW].decode()
    assert len(json.dumps(event)) < EVENT_LINE_BOUND


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
async def test_a_1_mb_websocket_frame_is_echoed_with_bounded_previews(
    demo_pumped: tuple[HeadlessRun, EventPump, str], binary: bool
) -> None:
    _, pump, url = demo_pumped
    payload: str | bytes = bytes(range(256)) * (MB // 256) if binary else "x" * MB
    ws_url = url.replace("http://", "ws://") + "/ws/echo/"
    async with websockets.connect(ws_url, origin=ORIGIN, open_timeout=20, max_size=4 * MB) as ws:
        await ws.send(payload)
        echoed = await asyncio.wait_for(ws.recv(), 30)
    assert echoed == (payload if isinstance(payload, bytes) else f"You said: {payload}")

    def frame_of_this_test(e: dict[str, Any]) -> bool:
        return bool(e["event"] == "ws-frame" and e["size"] >= MB)

    frames = await pump.until(frame_of_this_test, 2, 30)
    closed = await pump.until(lambda e: e["event"] == "ws-closed", 1, 30)
    frames = await pump.settle(lambda e: e["event"] == "ws-frame", quiet=1.0)
    assert len(frames) == 2 and len(closed) == 1, (frames, closed)
    incoming, outgoing = sorted(frames, key=lambda e: e["direction"] != "in")
    assert (incoming["direction"], outgoing["direction"]) == ("in", "out")
    assert incoming["id"] == outgoing["id"] == closed[0]["id"]
    assert closed[0]["frames_in"] == 1 and closed[0]["frames_out"] == 1
    assert incoming["size"] == MB and outgoing["size"] == len(echoed)
    for frame in (incoming, outgoing):
        assert frame["binary"] is binary and frame["truncated"] is True
        if binary:
            # Hex with spaces: three characters per byte, the last one without its space.
            assert len(frame["preview"]) == 3 * BINARY_PREVIEW - 1
        else:
            assert len(frame["preview"]) == FRAME_PREVIEW
        assert len(json.dumps(frame)) < EVENT_LINE_BOUND
    if not binary:
        assert outgoing["preview"].startswith("You said: xxx")
