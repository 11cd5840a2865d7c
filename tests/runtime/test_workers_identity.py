"""The worker identity contract (instrument/identity.py) and the ids and event fields it sets."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from asgi_dashboard.events import Event, RequestFinished
from asgi_dashboard.instrument import identity
from asgi_dashboard.instrument.previews import Receive, Scope, Send
from asgi_dashboard.instrument.tap import InstrumentedApp


@pytest.fixture(autouse=True)
def _reset_identity() -> Iterator[None]:
    yield
    identity.set_worker(0, 0)


class ListSink:
    """Collects what the tap emits."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


def test_defaults_single_process() -> None:
    identity.set_worker(0, 0)
    assert identity.worker_index() == 0
    assert identity.worker_pid() == os.getpid()
    assert identity.id_prefix(3) == "3"


def test_set_worker_sets_only_the_values() -> None:
    identity.set_worker(2, 4242)
    assert (identity.worker_index(), identity.worker_pid()) == (2, 4242)
    assert identity.id_prefix(3) == "3.2"
    identity.set_worker(1)
    assert identity.worker_pid() == os.getpid()
    with pytest.raises(ValueError):
        identity.set_worker(-1)


@pytest.mark.parametrize(("index", "first_id"), [(0, "5-1"), (2, "5.2-1")])
async def test_tap_puts_worker_on_requests(index: int, first_id: str) -> None:
    identity.set_worker(index, 777)
    sink = ListSink()
    app = InstrumentedApp(hello, sink, generation=5)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/")).status_code == 200
    (event,) = [e for e in sink.events if isinstance(e, RequestFinished)]
    assert event.id == first_id
    assert (event.worker, event.worker_pid) == (index, 777)
