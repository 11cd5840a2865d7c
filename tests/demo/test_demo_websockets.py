"""The demo's WebSocket consumers, through the full Channels stack of ``demosite.asgi``.

Going through ``application`` (not the consumer alone) also exercises the origin check and the
auth middleware that asgi-dash's WebSocket client meets.

``channels.testing.WebsocketCommunicator`` cannot be imported here: ``channels/testing/__init__.py``
also imports the live-server test case, which needs daphne, and the demo deliberately does not
install daphne. A few lines over asgiref's ``ApplicationCommunicator`` (which Channels' class
extends) do the same job.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

# Importing the ASGI module sets up Django and migrates the test database.
from demosite.asgi import application

TIMEOUT = 3
ORIGIN = (b"origin", b"http://127.0.0.1")


class WebsocketCommunicator(ApplicationCommunicator):
    """The parts of ``channels.testing.WebsocketCommunicator`` these tests use."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": headers,
            "subprotocols": [],
        }
        # asgiref.testing has no annotations (and mypy ignores the exclusion for super()).
        super().__init__(application, scope)  # type: ignore[no-untyped-call]

    async def connect(self, timeout: float) -> bool:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        return bool(response["type"] == "websocket.accept")

    async def send_text(self, text: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.send_input({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any) -> None:
        await self.send_text(json.dumps(data))

    async def receive_frame(self, timeout: float) -> dict[str, Any]:
        frame = await self.receive_output(timeout)
        assert frame["type"] == "websocket.send", frame
        return dict(frame)

    async def receive_json(self, timeout: float) -> Any:
        return json.loads((await self.receive_frame(timeout))["text"])

    async def disconnect(self, timeout: float) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(timeout)


@asynccontextmanager
async def connected(path: str) -> AsyncIterator[WebsocketCommunicator]:
    communicator = WebsocketCommunicator(path, headers=[ORIGIN])
    assert await communicator.connect(timeout=TIMEOUT), f"handshake to {path} was rejected"
    try:
        yield communicator
    finally:
        await communicator.disconnect(timeout=TIMEOUT)


async def test_echo_replies_to_text() -> None:
    async with connected("/ws/echo/") as echo:
        await echo.send_text("hello")
        assert await echo.receive_frame(timeout=TIMEOUT) == {
            "type": "websocket.send",
            "text": "You said: hello",
        }


async def test_echo_returns_binary_as_binary() -> None:
    async with connected("/ws/echo/") as echo:
        await echo.send_bytes(b"\x00\x01\xff")
        frame = await echo.receive_frame(timeout=TIMEOUT)
        assert frame == {"type": "websocket.send", "bytes": b"\x00\x01\xff"}


async def test_chat_broadcasts_to_everyone_in_the_room() -> None:
    async with (
        connected("/ws/chat/lobby/") as alice,
        connected("/ws/chat/lobby/") as bob,
        connected("/ws/chat/elsewhere/") as carol,
    ):
        await alice.send_json({"message": "hi all"})
        expected = {"message": "hi all", "user": "anonymous", "room": "lobby"}
        assert await alice.receive_json(timeout=TIMEOUT) == expected
        assert await bob.receive_json(timeout=TIMEOUT) == expected
        # Rooms are separate channel-layer groups.
        assert await carol.receive_nothing(timeout=0.1)


async def test_chat_rejects_a_message_without_text() -> None:
    async with connected("/ws/chat/lobby/") as chat:
        await chat.send_json({"text": "wrong key"})
        assert "error" in await chat.receive_json(timeout=TIMEOUT)


@pytest.mark.parametrize(
    "headers",
    [[], [(b"origin", b"http://evil.example")]],
    ids=["no-origin", "foreign-origin"],
)
async def test_handshake_needs_an_allowed_origin(headers: list[tuple[bytes, bytes]]) -> None:
    communicator = WebsocketCommunicator("/ws/echo/", headers=headers)
    # AllowedHostsOriginValidator answers the handshake with websocket.close (HTTP 403).
    assert not await communicator.connect(timeout=TIMEOUT)
    # The denier is a consumer too: like a server would, tell it the socket is gone so it ends.
    await communicator.disconnect(TIMEOUT)
