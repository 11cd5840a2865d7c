"""The WebSocket client (asgi_dashboard.wsclient) and tools against the real demo server.

One headless demo server per test (``demo_server``), on 127.0.0.1 with a fresh SQLite database;
every wait is bounded by the client's own timeouts or ``asyncio.wait_for``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from asgi_dashboard.runtime.tools import run_tool
from asgi_dashboard.wsclient import (
    MARKER_HEADER,
    ClientSession,
    OutgoingMessage,
    PayloadError,
    SessionOptions,
    SessionUpdate,
)
from asgi_dashboard.wsframes import FrameRecord
from tests.conftest import DEMO_DIR
from tests.runtime.conftest import HeadlessRun

Server = tuple[HeadlessRun, str]


def ws(url: str, path: str) -> str:
    return url.replace("http://", "ws://").rstrip("/") + path


class Inbox:
    """Collects a session's received frames; ``next()`` waits (bounded) for the next one."""

    def __init__(self) -> None:
        self.updates: list[SessionUpdate] = []
        self.queue: asyncio.Queue[FrameRecord] = asyncio.Queue()

    def __call__(self, session: ClientSession, update: SessionUpdate) -> None:
        self.updates.append(update)
        if isinstance(update, FrameRecord) and update.direction == "in":
            self.queue.put_nowait(update)

    async def next(self, timeout: float = 10.0) -> FrameRecord:
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def next_matching(
        self, predicate: Callable[[FrameRecord], bool], timeout: float = 10.0
    ) -> FrameRecord:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.queue.get()
                if predicate(frame):
                    return frame


def session(url: str, **kw: object) -> tuple[ClientSession, Inbox]:
    inbox = Inbox()
    return ClientSession(SessionOptions(url=url, **kw), inbox), inbox  # type: ignore[arg-type]


def tool_env(tmp_path: Path) -> dict[str, str]:
    return {"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")}


async def test_route_discovery_lists_the_demo_routes(tmp_path: Path) -> None:
    result = await run_tool(
        "routes",
        project_dir=str(DEMO_DIR),
        settings_module="demosite.settings",
        env=tool_env(tmp_path),
    )
    by_path = {r["path"]: r for r in result["routes"]}
    assert by_path["/ws/echo/"]["consumer"] == "demoapp.consumers.EchoConsumer"
    chat = by_path["/ws/chat/{room}/"]
    assert chat["consumer"] == "demoapp.consumers.ChatConsumer"
    assert chat["params"] == [{"name": "room", "converter": "slug"}]
    assert result["origin_check"] and result["auth"]


async def test_echo_round_trip_is_linked_to_the_server_record(demo_server: Server) -> None:
    run, url = demo_server
    client, inbox = session(ws(url, "/ws/echo/"))
    result = await client.connect()
    assert result.ok, result.message
    await client.send("hello")
    reply = await inbox.next()
    assert reply.preview == "You said: hello" and reply.kind == "text"
    opened = await run.wait_event("ws-opened", path="/ws/echo/")
    headers = {k: v for k, v in opened["request_headers"]}
    assert headers[MARKER_HEADER] == client.id
    accepted = await run.wait_event("ws-accepted", id=opened["id"])
    assert accepted["consumer"] == "demoapp.consumers.EchoConsumer"
    rtt = await client.ping()
    assert 0 <= rtt < 5
    await client.close(4000, "bye")
    closed = await run.wait_event("ws-closed", id=opened["id"])
    assert closed["code"] == 4000
    assert client.state == "closed"


async def test_two_sessions_in_one_chat_room_see_each_other(demo_server: Server) -> None:
    _, url = demo_server
    room = ws(url, "/ws/chat/lobby/")
    alice, alice_in = session(room)
    bob, bob_in = session(room)
    assert (await alice.connect()).ok and (await bob.connect()).ok
    await alice.send(json.dumps({"message": "hi bob"}), "json")
    for inbox in (alice_in, bob_in):
        frame = await inbox.next()
        assert frame.is_json
        assert frame.json == {"message": "hi bob", "user": "anonymous", "room": "lobby"}
    await asyncio.gather(alice.aclose(), bob.aclose())


async def test_session_cookie_login_reaches_the_consumer(
    demo_server: Server, tmp_path: Path
) -> None:
    _, url = demo_server
    env = tool_env(tmp_path)
    common = {"project_dir": str(DEMO_DIR), "settings_module": "demosite.settings", "env": env}
    created = await run_tool("session", "carol", "--create", **common)  # type: ignore[arg-type]
    assert created["created_user"] is True, created
    users = await run_tool("users", **common)  # type: ignore[arg-type]
    assert "carol" in [u["username"] for u in users["users"]]
    client, inbox = session(
        ws(url, "/ws/chat/auth/"), cookies={created["cookie_name"]: created["cookie_value"]}
    )
    assert (await client.connect()).ok
    await client.send('{"message": "it is me"}', "json")
    frame = await inbox.next()
    assert frame.json["user"] == "carol"
    await client.aclose()
    missing = await run_tool("session", "nobody", **common)  # type: ignore[arg-type]
    assert "No user 'nobody'" in missing["error"]


async def test_json_validation_happens_before_sending(demo_server: Server) -> None:
    _, url = demo_server
    client, inbox = session(ws(url, "/ws/chat/json/"))
    assert (await client.connect()).ok
    with pytest.raises(PayloadError, match="line 1, column"):
        await client.send('{"message": ', "json")
    assert not [f for f in client.frames if f.direction == "out"]
    # Valid JSON that the consumer does not understand gets its error reply.
    await client.send("[1, 2]", "json")
    assert "error" in (await inbox.next()).json
    await client.aclose()


async def test_binary_frames_and_a_10_mb_frame(demo_server: Server) -> None:
    _, url = demo_server
    client, inbox = session(ws(url, "/ws/echo/"))
    assert (await client.connect()).ok
    await client.send("de ad be ef", "hex")
    frame = await inbox.next()
    assert frame.kind == "binary" and frame.preview == "de ad be ef" and frame.size == 4
    await client.send("AAEC", "base64")
    assert (await inbox.next()).preview == "00 01 02"
    big = os.urandom(10 * 1024 * 1024)
    await client.send(base64.b64encode(big).decode(), "base64")
    echoed = await inbox.next(timeout=30)
    assert echoed.size == len(big) and echoed.truncated
    assert len(echoed.preview) < 1024
    await client.aclose()


async def test_frame_over_max_size_closes_with_1009_without_hanging(demo_server: Server) -> None:
    _, url = demo_server
    client, _ = session(ws(url, "/ws/echo/"), max_size=1024, auto_reconnect=False)
    assert (await client.connect()).ok
    await client.send("x" * 4096)
    async with asyncio.timeout(10):
        while client.state != "closed":
            await asyncio.sleep(0.05)
    assert client.close_code == 1009


async def test_handshake_without_origin_is_rejected_with_403(demo_server: Server) -> None:
    _, url = demo_server
    client, _ = session(ws(url, "/ws/echo/"), origin=None)
    result = await client.connect()
    assert result.outcome == "rejected" and result.status == 403
    assert "no Origin header" in result.message
    assert client.state == "failed"


async def test_on_connect_messages_and_reconnect_after_restart(tmp_path: Path) -> None:
    from asgi_dashboard.config import DashboardConfig
    from asgi_dashboard.events import ServerStarted
    from asgi_dashboard.runtime.supervisor import ChildRuntime

    started: asyncio.Queue[ServerStarted] = asyncio.Queue()

    def on_events(batch: object) -> None:
        for event in batch:  # type: ignore[attr-defined]
            if isinstance(event, ServerStarted):
                started.put_nowait(event)

    config = DashboardConfig(
        project_dir=DEMO_DIR,
        settings_module="demosite.settings",
        settings_source="--settings",
        port=0,
        reload=False,
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    runtime = ChildRuntime(config, on_events)
    await runtime.start()
    try:
        first = await asyncio.wait_for(started.get(), 30)
        hello = OutgoingMessage("hello again", on_connect=True)
        client, inbox = session(ws(first.url, "/ws/echo/"), on_connect=[hello])
        assert (await client.connect()).ok
        assert (await inbox.next()).preview == "You said: hello again"
        await runtime.restart()
        await asyncio.wait_for(started.get(), 30)
        client.server_restarted()  # what the panel does on ServerStarted
        again = await inbox.next_matching(lambda f: f.kind == "text", timeout=30)
        assert again.preview == "You said: hello again"
        assert client.state == "open"
        await client.aclose()
    finally:
        await runtime.stop()


async def test_bad_input_states(demo_server: Server) -> None:
    _, url = demo_server
    cases = {
        "http://127.0.0.1/": "bad-url",
        "ws://": "bad-url",
        "ws://no-such-host.invalid/": "unknown-host",
        "ws://127.0.0.1:1/": "refused",
    }
    for target, outcome in cases.items():
        client, _ = session(target, open_timeout=5)
        result = await client.connect()
        assert result.outcome == outcome, (target, result)
    client, _ = session(ws(url, "/ws/nope/"))
    result = await client.connect()
    assert result.outcome in ("rejected", "error"), result
