"""The WebSocket panel's pure parts: server-side records linked by marker, form parsing."""

from __future__ import annotations

from asgi_dashboard.events import ExceptionInfo, WsAccepted, WsClosed, WsFrame, WsOpened
from asgi_dashboard.model import ServerRecords
from asgi_dashboard.runtime.tools import WsRoute
from asgi_dashboard.widgets.ws_forms import (
    parse_headers,
    parse_subprotocols,
    route_label,
    unfilled_params,
    ws_base,
)
from asgi_dashboard.wsclient import MARKER_HEADER


def opened(conn_id: str, client: str | None = None) -> WsOpened:
    headers = ((MARKER_HEADER, client),) if client else ()
    return WsOpened(id=conn_id, path="/ws/echo/", request_headers=headers)


def test_records_link_the_newest_connection_of_a_client() -> None:
    records = ServerRecords()
    changed = records.ingest([opened("1-1", "c1"), opened("1-2"), opened("2-1", "c1")])
    assert changed == {"1-1", "1-2", "2-1"}
    assert records.for_client("c1").id == "2-1"  # type: ignore[union-attr]
    assert [c.id for c in records.others()] == ["1-2"]
    records.ingest(
        [
            WsAccepted(id="2-1", consumer="app.Echo"),
            WsFrame(id="2-1", direction="in", size=2, preview="hi"),
            WsClosed(id="2-1", code=1011, by="error", error=ExceptionInfo("KeyError", "x", "tb")),
            WsFrame(id="9-9", direction="in", size=1),  # unknown connection: ignored
        ]
    )
    conn = records.for_client("c1")
    assert conn is not None and conn.state == "crashed" and len(conn.frames) == 1
    assert records.for_client("nobody") is None


def test_records_are_bounded_and_forget_links() -> None:
    records = ServerRecords(max_connections=2)
    records.ingest([opened("1", "a"), opened("2", "b"), opened("3", "c")])
    assert list(records.connections) == ["2", "3"]
    assert records.for_client("a") is None


def test_rejected_state() -> None:
    records = ServerRecords()
    records.ingest([opened("1"), WsAccepted(id="1", accepted=False, status=403)])
    assert records.connections["1"].state == "rejected 403"


def test_form_parsing() -> None:
    assert ws_base("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000"
    assert ws_base("https://h") == "wss://h"
    assert parse_headers("X-A: 1; Authorization: Bearer a:b\nbad") == [
        ("X-A", "1"),
        ("Authorization", "Bearer a:b"),
    ]
    assert parse_subprotocols("graphql-ws, json  v2") == ["graphql-ws", "json", "v2"]
    assert unfilled_params("ws://h/ws/chat/{room}/{pk}/") == ["{room}", "{pk}"]
    assert route_label(WsRoute("/ws/echo/", "demoapp.consumers.EchoConsumer")) == (
        "/ws/echo/  EchoConsumer"
    )
