"""ServerRecords keeps every connection a panel session opened: a crash stays beside the
reconnect that followed it, and forgetting the oldest connection forgets it everywhere."""

from __future__ import annotations

from asgi_dashboard.events import ExceptionInfo, WsAccepted, WsClosed, WsOpened
from asgi_dashboard.model.ws import ServerRecords
from asgi_dashboard.wsclient_data import MARKER_HEADER


def opened(conn_id: str, client: str | None = "s1") -> WsOpened:
    headers = ((MARKER_HEADER, client),) if client else ()
    return WsOpened(id=conn_id, path="/ws/chat/lobby/", request_headers=headers)


def test_a_crash_and_its_reconnect_are_two_entries_oldest_first() -> None:
    records = ServerRecords()
    error = ExceptionInfo("ValueError", "boom", "tb")
    records.ingest(
        [
            opened("1-1"),
            WsAccepted(id="1-1"),
            WsClosed(id="1-1", code=1006, by="error", error=error),
            opened("1-2"),
            opened("1-3", client=None),
            WsAccepted(id="1-2"),
        ]
    )
    history = records.history_for_client("s1")
    assert [(c.id, c.state) for c in history] == [("1-1", "crashed"), ("1-2", "open")]
    assert records.for_client("s1") is history[-1]
    assert records.history_for_client("other") == []


def test_forgotten_connections_leave_the_history() -> None:
    records = ServerRecords(max_connections=2)
    records.ingest([opened("1-1"), opened("1-2"), opened("1-3")])
    assert [c.id for c in records.history_for_client("s1")] == ["1-2", "1-3"]
    records.ingest([opened("1-4", client="s2"), opened("1-5", client="s2")])
    assert records.history_for_client("s1") == [] and records.for_client("s1") is None
