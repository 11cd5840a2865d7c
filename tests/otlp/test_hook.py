"""The runtime's one subscriber hook (``runtime.base.subscribed``): free without ``--otlp``; with
it, every batch reaches the UI's callback first, then the exporter, whose warnings come back as
``CheckMessage`` events through the runtime's ``emit``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from asgi_dashboard.config import DEMO_DIR, DashboardConfig
from asgi_dashboard.events import CheckMessage, Event, RequestFinished
from asgi_dashboard.runtime.base import subscribed
from tests.otlp.receiver import OtlpReceiver


def config(otlp: str | None) -> DashboardConfig:
    return DashboardConfig(
        project_dir=DEMO_DIR, settings_module="demosite.settings", settings_source="test", otlp=otlp
    )


def test_without_otlp_the_callback_is_the_uis_own() -> None:
    def on_events(batch: Sequence[Event]) -> None:
        pass

    assert subscribed(config(None), on_events, print) is on_events


async def test_with_otlp_batches_reach_the_ui_then_the_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Event] = []
    emitted: list[Event] = []
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        publish = subscribed(config(""), seen.extend, emitted.append)
        event = RequestFinished(id="9-1", method="GET", path="/x/", status=200, total_ns=1000)
        publish([event])
        assert seen == [event]
        spans = await asyncio.to_thread(receiver.wait_for, lambda got: len(got) == 1)
    assert spans[0].name == "GET" and spans[0].resource["service.name"] == "demosite"
    assert not [e for e in emitted if isinstance(e, CheckMessage)]
