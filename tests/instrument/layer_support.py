"""Helpers of the channel-layer tests: a WebSocket client over asgiref's communicator
(``channels.testing`` needs daphne, which the demo does not install), the demo chat through an
instrumented app, and a swapped default channel layer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from asgiref.testing import ApplicationCommunicator
from channels.layers import channel_layers

from asgi_dashboard.events import WsOpened
from asgi_dashboard.instrument import InstrumentedApp
from tests.instrument.conftest import Instrumented

TIMEOUT = 5
ORIGIN = (b"origin", b"http://127.0.0.1")


class Communicator(ApplicationCommunicator):
    """A WebSocket client over asgiref's communicator (channels.testing needs daphne)."""

    def __init__(self, app: Any, path: str) -> None:
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": b"",
            "headers": [ORIGIN],
            "subprotocols": [],
        }
        super().__init__(app, scope)  # type: ignore[no-untyped-call]

    async def put(self, message: dict[str, Any]) -> None:
        await self.send_input(message)  # type: ignore[no-untyped-call]

    async def get(self) -> dict[str, Any]:
        message: dict[str, Any] = await self.receive_output(TIMEOUT)  # type: ignore[no-untyped-call]
        return message

    async def connect(self) -> None:
        await self.put({"type": "websocket.connect"})
        assert (await self.get())["type"] == "websocket.accept"

    async def send_json(self, data: Any) -> None:
        await self.put({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json(self) -> Any:
        frame = await self.get()
        assert frame["type"] == "websocket.send", frame
        return json.loads(frame["text"])

    async def disconnect(self) -> None:
        await self.put({"type": "websocket.disconnect", "code": 1000})
        await self.wait(TIMEOUT)  # type: ignore[no-untyped-call]


@asynccontextmanager
async def chat(app: InstrumentedApp, room: str = "lobby") -> AsyncIterator[Communicator]:
    client = Communicator(app, f"/ws/chat/{room}/")
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def swapped_layer() -> Iterator[Callable[[Any], Any]]:
    """Replace the default layer with the one the test builds; the demo's comes back after."""
    old: list[Any] = []

    def use(layer: Any) -> Any:
        old.append(channel_layers.set("default", layer))
        return layer

    yield use
    if old and old[0] is not None:
        channel_layers.set("default", old[0])
    elif old:  # none was built yet: let the settings build it again when next asked
        channel_layers.backends.pop("default", None)


def conn_ids(inst: Instrumented) -> list[str]:
    return [e.id for e in inst.sink.of(WsOpened)]
