"""The demo's ASGI application, instrumented in this process, with events collected in a list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from asgi_dashboard.events import Event, RequestFinished
from asgi_dashboard.instrument import InstrumentedApp, install
from asgi_dashboard.runtime.bootstrap import LoadedProject, load_application, wrap_static
from tests.conftest import DEMO_DIR

E = TypeVar("E", bound=Event)


@dataclass
class ListSink:
    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def of(self, cls: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, cls)]


@dataclass
class Instrumented:
    app: InstrumentedApp
    sink: ListSink

    async def get(self, path: str, **kwargs: Any) -> tuple[httpx.Response, RequestFinished]:
        """One request through the instrumented app; returns the response and its event."""
        before = len(self.sink.of(RequestFinished))
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await asyncio.wait_for(client.request("GET", path, **kwargs), 10)
        finished = self.sink.of(RequestFinished)
        assert len(finished) == before + 1, "exactly one request event per request"
        return response, finished[-1]


@pytest.fixture(scope="session")
def loaded() -> Iterator[LoadedProject]:
    project = load_application(str(DEMO_DIR), "demosite.settings", None)
    install(str(DEMO_DIR))
    yield project


@pytest.fixture
async def instrumented(loaded: LoadedProject) -> AsyncIterator[Instrumented]:
    sink = ListSink()
    app, prefix = wrap_static(loaded, True)
    yield Instrumented(
        InstrumentedApp(app, sink, generation=1, static_prefix=prefix, project_dir=str(DEMO_DIR)),
        sink,
    )
