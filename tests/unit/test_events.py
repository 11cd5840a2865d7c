"""The event schema is a public interface: every event round-trips through the JSON codec."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from asgi_dashboard import events as ev


def _sample(cls: type[ev.Event]) -> ev.Event:
    """An instance of ``cls`` with every field set to a non-default value."""
    samples: dict[type[ev.Event], dict[str, Any]] = {
        ev.ServerStarting: dict(mode="child", generation=2, settings_module="a.settings"),
        ev.ServerStarted: dict(
            url="http://127.0.0.1:1",
            pid=1,
            mode="in-process",
            host="h",
            port=1,
            template_dirs=("/t",),
            media_root="/m",
        ),
        ev.ServerStopped: dict(pid=3, exit_code=None, signal="SIGKILL", reason="crashed"),
        ev.ServerFailed: dict(
            message="m",
            phase="import",
            error=ev.ExceptionInfo("E", "msg", "tb", ev.FrameInfo("f.py", 3, "fn", "x = 1")),
        ),
        ev.CheckMessage: dict(level="warning", message="m", check_id="x.W001", hint="h"),
        ev.RequestFinished: dict(
            id="1-1",
            method="POST",
            path="/p/",
            status=201,
            query="a=1",
            view="app.views.v",
            kind="sync",
            route="p/",
            total_ns=10,
            view_ns=5,
            thread_wait_ns=1,
            template_ns=2,
            sql_count=2,
            sql_ns=3,
            sql=(ev.SqlQuery("SELECT 1", 1), ev.SqlQuery("INSERT", 2, many=True)),
            request_headers=(("host", "x"), ("cookie", "a=b")),
            response_headers=(("content-type", "text/html"),),
            request_body="{}",
            error=ev.ExceptionInfo("E", "m", "tb", hint="do this"),
            user="demo",
        ),
        ev.WsOpened: dict(id="1", path="/ws/", subprotocols=("chat",)),
        ev.WsAccepted: dict(
            id="1", accepted=False, status=403, url_kwargs=(("room", "a"),), user="demo"
        ),
        ev.WsFrame: dict(id="1", direction="out", size=3, binary=True, preview="00 01 02"),
        ev.WsClosed: dict(id="1", code=1011, by="error", duration_ns=5),
        ev.LogRecord: dict(logger="django.request", level="ERROR", message="boom", exc_text="tb"),
        ev.ConsoleOutput: dict(stream="stderr", text="hello"),
        ev.ReloadWatching: dict(roots=("/p",), includes=("*.py",), excludes=(".git/",)),
        ev.FilesChanged: dict(paths=("a.py", "b.html"), action="restart"),
        ev.ReloadFinished: dict(
            generation=3, path="fork", duration_ns=5, ok=False, reason="r", paths=("a.py",)
        ),
        ev.ReloadLoopDetected: dict(path="db.sqlite3-wal", count=5),
        ev.LoopBlocked: dict(
            duration_ns=5, frame=ev.FrameInfo("v.py", 1, "f"), in_flight=("GET /",)
        ),
        ev.LoopLag: dict(current_ns=1, max_ns=2),
        ev.MiddlewareAudit: dict(
            entries=(("a.B", "sync", True),),
            handler_is_async=True,
            details=(
                ev.MiddlewareInfo(
                    "a.B", "sync", "sync", True, 1, 1, ("process_view",), fix="make it async"
                ),
            ),
            hops_per_request=2,
            switches_per_request=1,
            hop_ns=40_000,
            switch_ns=60_000,
            cost_ns_per_request=140_000,
            debug=True,
            error="x",
        ),
        ev.EventsDropped: dict(count=7),
        ev.ProcessAttached: dict(
            pid=41,
            ppid=40,
            server="gunicorn",
            argv=("gunicorn", "-w", "2", "mysite.asgi:application"),
            project_dir="/srv/site",
            settings_module="mysite.settings",
            app="channels.routing.ProtocolTypeRouter",
            python="3.11.2",
            django="5.2",
            worker=2,
            reconnects=1,
        ),
        ev.ProcessDetached: dict(pid=41, worker=2, reason="collector-stopped", events=12),
        ev.LayerOp: dict(
            op="group_send",
            layer="InMemoryChannelLayer",
            group="chat_lobby",
            msg_type="chat.message",
            size=42,
            duration_ns=12_000,
            conn_id="1-3",
            recipients=2,
            dropped=1,
            dropped_conns=("1-4",),
            error="ChannelFull",
        ),
        ev.HandlerRun: dict(
            conn_id="1-4",
            consumer="demoapp.consumers.ChatConsumer",
            msg_type="chat.message",
            handler="chat_message",
            from_layer=True,
            duration_ns=80_000,
            sql_count=1,
            sql_ns=20_000,
            sql=(ev.SqlQuery("SELECT 1", 20_000),),
        ),
    }
    return cls(ts=1700000000.5, **samples[cls])


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda c: c.name)
def test_every_event_round_trips(cls: type[ev.Event]) -> None:
    event = _sample(cls)
    line = ev.encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    data = json.loads(line)
    assert data["event"] == cls.name
    assert data["v"] == ev.SCHEMA_VERSION
    assert data["ts"] == 1700000000.5
    assert ev.decode(line) == event


def test_names_are_unique() -> None:
    assert len(ev.BY_NAME) == len(ev.EVENT_TYPES)


def test_request_line_has_the_public_fields() -> None:
    data = json.loads(ev.encode(_sample(ev.RequestFinished)))
    for key in (
        "method",
        "path",
        "status",
        "route",
        "view",
        "kind",
        "total_ns",
        "view_ns",
        "sql_count",
    ):
        assert key in data
    assert data["event"] == "request"


def test_unknown_fields_are_ignored_and_missing_defaults_apply() -> None:
    line = json.dumps({"event": "console", "ts": 1.0, "stream": "stdout", "text": "x", "new": 1})
    assert ev.decode(line) == ev.ConsoleOutput(ts=1.0, stream="stdout", text="x")


@pytest.mark.parametrize(
    "line", [b"not json", b'{"no": "event"}', b'{"event": "nope"}', b'{"event": "console"}', b"[]"]
)
def test_bad_lines_raise_decode_error(line: bytes) -> None:
    with pytest.raises(ev.DecodeError):
        ev.decode(line)


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda c: c.name)
def test_lines_are_the_standard_json_of_to_dict(cls: type[ev.Event]) -> None:
    # The public form, byte for byte: what json.dumps writes for the event's dict.
    event = _sample(cls)
    expected = json.dumps(ev.to_dict(event), separators=(",", ":"), ensure_ascii=False)
    assert ev.encode(event) == (expected + "\n").encode()
    assert list(ev.to_dict(event))[:3] == ["event", "v", "ts"]


def test_a_value_of_the_wrong_type_is_a_decode_error() -> None:
    line = {"event": "request", "id": "1", "method": "GET", "path": "/", "status": "200"}
    with pytest.raises(ev.DecodeError, match="malformed request"):
        ev.decode(json.dumps(line))
    with pytest.raises(ev.DecodeError, match="malformed request"):
        ev.from_dict(line)
    wrong_kind = {**line, "status": 200, "kind": "threaded"}  # a Literal's closed set
    with pytest.raises(ev.DecodeError):
        ev.decode(json.dumps(wrong_kind))
    decoded = ev.decode(json.dumps({**line, "status": 200}))
    assert isinstance(decoded, ev.RequestFinished) and decoded.status == 200


def test_events_are_frozen() -> None:
    event = _sample(ev.ConsoleOutput)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.text = "y"  # type: ignore[attr-defined]
