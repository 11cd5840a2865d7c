"""The channel-layer tap for real: the demo under ``asgi-dash --headless --json`` with
``REDIS_URL`` (its settings then use channels_redis against a real redis-server), chat clients
over real WebSockets; the layer and handler events come out of ``--json``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets
from websockets.typing import Origin

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import launch

pytestmark = pytest.mark.slow  # a real server process and a redis-server

ORIGIN = Origin("http://127.0.0.1")


async def test_demo_chat_over_redis_reports_layer_events(tmp_path: Path, redis_url: str) -> None:
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3"), "REDIS_URL": redis_url},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        room = started["url"].replace("http://", "ws://") + "/ws/chat/headless/"
        async with (
            websockets.connect(room, origin=ORIGIN, open_timeout=10) as alice,
            websockets.connect(room, origin=ORIGIN, open_timeout=10) as bob,
        ):
            await alice.send(json.dumps({"message": "over the layer"}))
            for ws in (alice, bob):
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert reply["message"] == "over the layer"
        send = await run.wait_event("layer", op="group_send")
        discards = [await run.wait_event("layer", op="group_discard") for _ in range(2)]
    finally:
        await run.stop()
    opened = [e["id"] for e in run.events if e["event"] == "ws-opened"]
    adds = [e for e in run.events if e["event"] == "layer" and e["op"] == "group_add"]
    assert [e["conn_id"] for e in adds] == opened
    assert {e["group"] for e in adds} == {"chat_headless"}
    assert send["layer"] == "RedisChannelLayer" and send["msg_type"] == "chat.message"
    assert send["conn_id"] == opened[0] and send["recipients"] == 2 and send["size"] > 0
    assert {e["conn_id"] for e in discards} == set(opened)
    runs = [e for e in run.events if e["event"] == "handler" and e["from_layer"]]
    assert sorted(e["conn_id"] for e in runs) == sorted(opened)
    assert all(e["handler"] == "chat_message" and e["duration_ns"] > 0 for e in runs)
