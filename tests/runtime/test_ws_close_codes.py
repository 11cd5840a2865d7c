"""WebSocket close codes as on the wire, end to end: a real ``asgi-dash --headless --json``
serving the demo, a real WebSocket client. A consumer that raises after the handshake: the
client sees the socket drop (1006, no close frame; Uvicorn's websockets-sansio ``run_asgi``
only closes the transport) and the ws-closed event says the same, with the traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from tests.conftest import DEMO_DIR
from tests.runtime.conftest import launch

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]


async def test_consumer_crash_is_1006_on_the_wire_and_in_the_event(tmp_path: Path) -> None:
    run = await launch(
        str(DEMO_DIR), "--port", "0", env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")}
    )
    try:
        url = (await run.wait_event("server-started", timeout=30))["url"]
        ws_url = url.replace("http", "ws") + "/ws/chat/lobby/"
        async with connect(ws_url, origin=Origin("http://127.0.0.1")) as ws:
            await ws.send("not json")  # the chat consumer's receive_json raises on it
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is None  # no close frame: the client reports 1006
        event = await run.wait_event("ws-closed", timeout=10)
        assert (event["code"], event["by"]) == (1006, "error")
        assert event["error"]["type"].endswith("JSONDecodeError")
    finally:
        if run.process.returncode is None:
            await run.stop()
