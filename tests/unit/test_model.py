"""The model without an app: one batch in, one frozen ChangeSet out, each event looked at once."""

from __future__ import annotations

import dataclasses

import pytest

from asgi_dashboard.events import (
    ExceptionInfo,
    FilesChanged,
    LogRecord,
    MiddlewareAudit,
    ReloadFinished,
    ReloadWatching,
    ServerFailed,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)
from asgi_dashboard.model import ChangeSet, Dashboard, WsConnection
from asgi_dashboard.wsclient import MARKER_HEADER
from tests.ui.scripted import request, started


def test_change_set_is_frozen_and_empty_for_nothing() -> None:
    changes = Dashboard().ingest([])
    assert changes == ChangeSet()
    assert not changes.log_changed
    with pytest.raises(dataclasses.FrozenInstanceError):
        changes.status_changed = True  # type: ignore[misc]


def test_requests_become_rows_stats_and_status_in_one_pass() -> None:
    dash = Dashboard(history=10)
    changes = dash.ingest([started(), request(1), request(2, status=500)])
    assert [i.entry.id for i in changes.new_items] == ["1-1", "1-2"]
    assert changes.status_changed
    assert [e.generation for e in changes.started] == [1]
    assert dash.status.requests == 2 and dash.status.errors == 1
    assert dash.views.total_count() == 2
    assert changes.console and changes.console[0].name == "server-started"


def test_websocket_events_update_row_and_server_record_together() -> None:
    dash = Dashboard()
    opened = WsOpened(id="1-7", path="/ws/chat/", request_headers=((MARKER_HEADER, "s1"),))
    first = dash.ingest([opened, WsAccepted(id="1-7", consumer="chat.Consumer")])
    assert first.ws_changed == frozenset({"1-7"})
    assert len(first.new_items) == 1 and first.updated_items == ()
    row = first.new_items[0].entry
    assert isinstance(row, WsConnection) and row.consumer == "chat.Consumer"
    record = dash.ws.for_client("s1")
    assert record is not None and record.state == "open"

    frames = dash.ingest([WsFrame(id="1-7", direction="in", size=3, preview="hey")])
    assert frames.ws_changed == {"1-7"} and not frames.log_changed  # counted, no row update
    assert row.frames_in == 1 and len(record.frames) == 1

    error = ExceptionInfo("ValueError", "boom", "")
    closed = dash.ingest([WsClosed(id="1-7", code=1011, by="error", error=error)])
    assert [i.entry for i in closed.updated_items] == [row]
    assert row.closed and record.state == "crashed"
    assert [e.name for e in closed.console] == ["ws-closed"]  # a crash is worth a console line


def test_server_records_outlive_a_clear_of_the_log() -> None:
    dash = Dashboard()
    dash.ingest([WsOpened(id="1-1", path="/ws/")])
    dash.clear()
    assert len(dash.history) == 0 and "1-1" in dash.ws.connections
    # The row is gone, its record stays; a late close updates the record only.
    changes = dash.ingest([WsClosed(id="1-1", code=1000)])
    assert changes.ws_changed == {"1-1"} and not changes.log_changed


def test_latest_audit_is_kept_by_the_model() -> None:
    dash = Dashboard()
    audits = [MiddlewareAudit(ts=float(n), entries=()) for n in (1, 2)]
    changes = dash.ingest([audits[0], LogRecord(logger="x", level="INFO", message="x"), audits[1]])
    assert changes.audit is audits[1] and dash.audit is audits[1]
    assert dash.ingest([request()]).audit is None and dash.audit is audits[1]


def test_reload_rows_and_what_is_watched() -> None:
    dash = Dashboard()
    assert dash.watch_text == ""
    watching = ReloadWatching(
        roots=("/p", "/q"),
        includes=("*.py", "<template dirs>/*"),
        excludes=("*.tmp", "__pycache__/", ".git/"),
    )
    changes = dash.ingest(
        [
            watching,
            FilesChanged(ts=1, paths=("/p/a.py",), action="restart"),
            ServerFailed(message="SyntaxError", phase="import"),
        ]
    )
    assert changes.watching_changed and changes.reloads_changed
    assert changes.failure is not None and dash.status.state == "failed"
    assert dash.reloads.rows[-1].detail == "SyntaxError"
    assert dash.watch_text == (
        "Watching /p, /q\n"
        "include: *.py + every file in a template folder\n"
        "exclude: *.tmp; folders __pycache__ .git"
    )
    done = dash.ingest([ReloadFinished(ts=2, generation=2, path="fork", duration_ns=5)])
    assert done.reloads_changed and not done.watching_changed
    assert dash.reloads.rows[-1].outcome == "ok"
    assert Dashboard(reload=False).watch_text.startswith("Reloading is off")


def test_collect_mode_counts_the_processes_attached_now() -> None:
    from asgi_dashboard.events import ProcessAttached, ProcessDetached
    from asgi_dashboard.model.status import ServerStatus

    status = ServerStatus(mode="collect")
    assert status.apply(ProcessAttached(pid=101, worker=1))
    assert status.apply(ProcessAttached(pid=102, worker=2))
    assert status.attached == {101: 1, 102: 2} and status.multi_worker
    assert status.apply(ProcessDetached(pid=101, worker=1))
    assert not status.apply(ProcessDetached(pid=999))  # never attached: nothing changes
    assert status.attached == {102: 2}
