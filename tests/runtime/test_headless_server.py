"""The real thing: ``asgi-dash --headless --json`` on the demo, real HTTP and WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import websockets
from websockets.typing import Origin

from tests.runtime.conftest import HeadlessRun, pid_alive

# AllowedHostsOriginValidator rejects a handshake without Origin.
ORIGIN = Origin("http://127.0.0.1")


async def test_requests_become_events_and_stop_is_clean(
    demo_server: tuple[HeadlessRun, str],
) -> None:
    run, url = demo_server
    started = next(e for e in run.events if e["event"] == "server-started")
    assert started["mode"] == "child" and started["url"].startswith("http://127.0.0.1:")
    assert started["settings_module"] == "demosite.settings"
    child_pid, port = started["pid"], started["port"]
    assert child_pid != run.process.pid

    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        sync_resp = await client.get("/sync/?ms=20")
        async_resp = await client.get("/async/?ms=20")
        missing = await client.get("/definitely-missing/")
    assert (sync_resp.status_code, async_resp.status_code, missing.status_code) == (200, 200, 404)

    sync_ev = await run.wait_event("request", path="/sync/")
    assert sync_ev["kind"] == "sync" and sync_ev["status"] == 200 and sync_ev["query"] == "ms=20"
    assert sync_ev["view"].startswith("demoapp.views.")
    assert sync_ev["route"] == "sync/"
    assert sync_ev["view_ns"] >= 20_000_000 and sync_ev["total_ns"] >= sync_ev["view_ns"]
    assert sync_ev["thread_wait_ns"] is not None
    async_ev = await run.wait_event("request", path="/async/")
    assert async_ev["kind"] == "async" and async_ev["thread_wait_ns"] is None
    missing_ev = await run.wait_event("request", path="/definitely-missing/")
    assert missing_ev["status"] == 404 and missing_ev["view"] is None and missing_ev["kind"] is None

    assert await run.stop() == 0
    events = await run.drain()
    stopped = [e for e in events if e["event"] == "server-stopped"]
    assert stopped and stopped[-1]["pid"] == child_pid and stopped[-1]["reason"] == "requested"
    assert not pid_alive(child_pid)
    # The port is free again.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


async def test_websocket_echo_and_chat(demo_server: tuple[HeadlessRun, str]) -> None:
    run, url = demo_server
    ws_url = url.replace("http://", "ws://")
    async with websockets.connect(f"{ws_url}/ws/echo/", origin=ORIGIN, open_timeout=10) as ws:
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), 10) == "You said: hello"
    opened = await run.wait_event("ws-opened", path="/ws/echo/")
    accepted = await run.wait_event("ws-accepted", id=opened["id"])
    assert accepted["accepted"] and accepted["consumer"].startswith("demoapp.consumers.")
    frame_in = await run.wait_event("ws-frame", id=opened["id"], direction="in")
    frame_out = await run.wait_event("ws-frame", id=opened["id"], direction="out")
    assert (frame_in["preview"], frame_out["preview"]) == ("hello", "You said: hello")
    closed = await run.wait_event("ws-closed", id=opened["id"])
    assert closed["by"] == "client" and closed["frames_in"] == 1 and closed["frames_out"] == 1

    room = f"{ws_url}/ws/chat/lobby/"
    async with (
        websockets.connect(room, origin=ORIGIN, open_timeout=10) as alice,
        websockets.connect(room, origin=ORIGIN, open_timeout=10) as bob,
    ):
        await alice.send(json.dumps({"message": "hi bob"}))
        # Both members of the group get the broadcast, the sender included.
        for client in (bob, alice):
            got = json.loads(await asyncio.wait_for(client.recv(), 10))
            assert got["message"] == "hi bob" and got["room"] == "lobby"
        await bob.send(json.dumps({"message": "hi alice"}))
        for client in (alice, bob):
            got = json.loads(await asyncio.wait_for(client.recv(), 10))
            assert got["message"] == "hi alice"
    chat = await run.wait_event("ws-accepted", timeout=10, url_kwargs=[["room", "lobby"]])
    assert chat["consumer"].startswith("demoapp.consumers.")


async def test_handshake_without_origin_is_rejected(demo_server: tuple[HeadlessRun, str]) -> None:
    run, url = demo_server
    ws_url = url.replace("http://", "ws://")
    try:
        async with websockets.connect(f"{ws_url}/ws/echo/", open_timeout=10):
            raise AssertionError("handshake should have been rejected")
    except websockets.exceptions.InvalidStatus as exc:
        assert exc.response.status_code == 403
    event = await run.wait_event("ws-accepted", accepted=False)
    assert event["status"] == 403


async def test_in_process_mode_serves_the_same_events(tmp_path: Path) -> None:
    from tests.conftest import DEMO_DIR
    from tests.runtime.conftest import launch

    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--in-process",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        assert started["mode"] == "in-process" and started["pid"] == run.process.pid
        url = started["url"]
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            assert (await client.get("/orm/async/")).status_code == 200
        event = await run.wait_event("request", path="/orm/async/")
        assert event["kind"] == "async" and event["sql_count"] > 0
        ws_url = url.replace("http://", "ws://")
        async with websockets.connect(f"{ws_url}/ws/echo/", origin=ORIGIN, open_timeout=10) as ws:
            await ws.send(b"\x00\x01")
            assert await asyncio.wait_for(ws.recv(), 10) == b"\x00\x01"
        frame = await run.wait_event("ws-frame", direction="in")
        assert frame["binary"] and frame["preview"] == "00 01"
    finally:
        assert await run.stop() == 0


async def test_child_exits_when_the_dashboard_dies(demo_server: tuple[HeadlessRun, str]) -> None:
    import os
    import signal

    run, _ = demo_server
    started = next(e for e in run.events if e["event"] == "server-started")
    os.kill(run.process.pid, signal.SIGKILL)  # the dashboard process we started, by its PID
    await asyncio.wait_for(run.process.wait(), 10)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while pid_alive(started["pid"]):  # bounded poll: the orphan must go away by itself
        assert loop.time() < deadline, "child outlived the dashboard"
        await asyncio.sleep(0.05)
