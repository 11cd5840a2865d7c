"""The test generator for WebSocket connections, and writing tests into files."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgi_dashboard.events import ExceptionInfo, WsAccepted, WsClosed, WsFrame, WsOpened
from asgi_dashboard.model.ws import ServerConnection
from asgi_dashboard.testgen import MARKER, http_test, write_test, ws_test
from asgi_dashboard.testgen.files import SEPARATOR

from .test_testgen import TS, assert_formatted, module_of, request


def connection(
    frames: list[tuple[str, str]],
    *,
    by: str | None = "client",
    code: int = 1000,
    binary: bool = False,
) -> ServerConnection:
    conn = ServerConnection(
        WsOpened(
            ts=TS,
            id="0-9",
            path="/ws/chat/lobby/",
            request_headers=(
                ("host", "127.0.0.1:8000"),
                ("origin", "http://127.0.0.1:8000"),
                ("cookie", "sessionid=s3cret"),
                ("sec-websocket-key", "abc=="),
                ("x-asgi-dash-client", "c1"),
            ),
        )
    )
    conn.accepted = WsAccepted(ts=TS, id="0-9", consumer="demoapp.consumers.ChatConsumer")
    for direction, text in frames:
        conn.frames.append(
            WsFrame(
                ts=TS,
                id="0-9",
                direction=direction,  # type: ignore[arg-type]
                size=len(text),
                preview=text,
                binary=binary,
            )
        )
    if by is not None:
        conn.closed = WsClosed(ts=TS, id="0-9", code=code, by=by)  # type: ignore[arg-type]
    return conn


def test_json_frames_replayed_in_order_and_compared_as_json() -> None:
    conn = connection(
        [
            ("in", '{"message":"hi"}'),
            ("out", '{"message": "hi", "user": "anonymous", "room": "lobby"}'),
            ("in", '{"message": "exact"}'),
            ("out", "plain text"),
        ]
    )
    test = ws_test(conn)
    src = test.source
    assert src.startswith(
        "@pytest.mark.asyncio\n@pytest.mark.django_db(transaction=True, serialized_rollback=True)\n"
    )
    assert "async def test_ws_chat_lobby():" in src
    assert "WebSocket /ws/chat/lobby/ (demoapp.consumers.ChatConsumer): 2 in, 2 out" in src
    assert 'headers=[(b"origin", b"http://127.0.0.1:8000")]' in src
    for gone in ("s3cret", "sec-websocket", "x-asgi-dash-client", "host"):
        assert gone not in src
    # Sent byte for byte; send_json_to only when it sends the same text.
    assert 'await communicator.send_to(text_data=\'{"message":"hi"}\')' in src
    assert 'await communicator.send_json_to({"message": "exact"})' in src
    assert (
        'assert await communicator.receive_json_from() == {\n        "message": "hi",' in src
        or 'receive_json_from() == {"message": "hi", "user": "anonymous", "room": "lobby"}' in src
    )
    assert 'assert await communicator.receive_from() == "plain text"' in src
    assert src.index("send_to(") < src.index("receive_json_from") < src.index("send_json_to")
    assert src.rstrip().endswith("await communicator.disconnect()")
    assert "from channels.testing import WebsocketCommunicator" in test.imports
    assert "needs daphne" in test.prelude
    assert_formatted(module_of(test))


def test_server_close_error_rejection_and_binary() -> None:
    closed = ws_test(connection([("out", "bye")], by="server", code=4001))
    assert 'assert closing["type"] == "websocket.close"' in closed.source
    assert 'assert closing.get("code") == 4001' in closed.source
    assert_formatted(module_of(closed))
    crashed_conn = connection([("in", "boom")], by="error")
    crashed_conn.closed = WsClosed(
        ts=TS,
        id="0-9",
        by="error",
        error=ExceptionInfo(type="ValueError", message="x", traceback=""),
    )
    crashed = ws_test(crashed_conn)
    assert "# The consumer raised ValueError here." in crashed.source
    assert "with pytest.raises(Exception):" in crashed.source
    assert_formatted(module_of(crashed))
    rejected_conn = connection([], by=None)
    rejected_conn.accepted = WsAccepted(ts=TS, id="0-9", accepted=False, status=403)
    rejected = ws_test(rejected_conn)
    assert "assert not connected  # rejected with HTTP 403" in rejected.source
    assert "disconnect" not in rejected.source
    assert_formatted(module_of(rejected))
    binary = ws_test(connection([("in", "00 ff 10"), ("out", "00 ff 10")], binary=True))
    assert 'send_to(bytes_data=bytes.fromhex("00ff10"))' in binary.source
    assert 'receive_from() == bytes.fromhex("00ff10")' in binary.source
    assert_formatted(module_of(binary))


def test_truncated_frame_is_a_todo() -> None:
    conn = connection([("in", "x" * 10)])
    conn.frames[0] = WsFrame(
        ts=TS, id="0-9", direction="in", size=9000, preview="x", truncated=True
    )
    test = ws_test(conn)
    assert test.todos
    assert "# TODO: in frame of 9000 bytes not kept whole" in test.source
    assert_formatted(module_of(test))


# -- files -------------------------------------------------------------------------------------


def test_new_file_then_append_merges_imports_and_keeps_names_unique(tmp_path: Path) -> None:
    first = write_test("tests/test_gen.py", http_test(request(path="/")), root=tmp_path)
    target = tmp_path / "tests" / "test_gen.py"
    assert first.path == target and first.how == "created"
    text = target.read_text()
    assert text.startswith(f'"""{MARKER}.')
    assert "import pytest\n" in text
    second = write_test(target, http_test(request(path="/")), root=tmp_path)
    assert second.name == "test_get_root_200_2" and second.how == "appended"
    third = write_test(target, ws_test(connection([("in", "hi"), ("out", "You said: hi")])))
    assert third.how == "appended"
    text = target.read_text()
    assert text.count("def test_get_root_200(") == 1
    assert text.count("def test_get_root_200_2(") == 1
    assert "async def test_ws_chat_lobby():" in text
    # One import block at the top, in isort order, each import once.
    head = text.split("\n\n\n@", 1)[0]
    assert head.count("import pytest") == 1
    assert head.index("import pytest") < head.index("from django.conf import settings")
    assert text.count("import pytest") == 1
    assert text.count("channels.testing needs daphne") == 1
    write_test(target, ws_test(connection([("in", "again")])))
    assert target.read_text().count("channels.testing needs daphne") == 1
    assert_formatted(text)


def test_foreign_file_is_appended_after_a_separator(tmp_path: Path) -> None:
    target = tmp_path / "test_mine.py"
    mine = "import json\n\n\ndef test_mine():\n    assert json.loads('1') == 1\n"
    target.write_text(mine)
    result = write_test(target, http_test(request(path="/x/", method="POST", request_body="a=1")))
    assert result.how == "appended-foreign"
    text = target.read_text()
    assert text.startswith(mine)  # the user's code is never rewritten
    assert SEPARATOR in text
    assert "import pytest  # noqa: E402" in text
    compile(text, str(target), "exec")


def test_invalid_code_is_never_written(tmp_path: Path) -> None:
    target = tmp_path / "test_x.py"
    bad = http_test(request(path="/"))
    bad = type(bad)(bad.name, bad.source + "\n    )", bad.imports)
    with pytest.raises(SyntaxError):
        write_test(target, bad)
    assert not target.exists()


def test_written_file_is_formatted_with_or_without_ruff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = connection([("in", '{"message":"hi"}'), ("out", '{"message": "hi"}')])
    with_ruff = write_test(tmp_path / "a.py", ws_test(chat))
    assert with_ruff.formatted_by == "ruff"
    # Where ruff is not installed, the generator's own layout is what ruff would write.
    from asgi_dashboard.testgen import files

    monkeypatch.setattr(files, "ruff_command", lambda: None)
    without = write_test(tmp_path / "b.py", ws_test(chat))
    assert without.formatted_by == "asgi-dash"
    assert (tmp_path / "b.py").read_text() == (tmp_path / "a.py").read_text()
    write_test(tmp_path / "b.py", http_test(request(path="/x/", method="POST", request_body="a=1")))
    assert_formatted((tmp_path / "b.py").read_text())


def test_logged_in_connection_sends_a_force_login_session_cookie() -> None:
    conn = connection([("in", '{"message": "hi"}'), ("out", '{"user": "demo"}')])
    assert conn.accepted is not None
    conn.accepted = WsAccepted(
        ts=TS, id="0-9", consumer="demoapp.consumers.ChatConsumer", user="demo"
    )
    test = ws_test(conn)
    src = test.source
    assert "async def test_ws_chat_lobby(django_user_model):" in src
    assert "(demoapp.consumers.ChatConsumer) as demo:" in src
    assert "await sync_to_async(client.force_login)(" in src
    assert 'await django_user_model.objects.aget(username="demo")' in src
    assert '(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())' in src
    assert "s3cret" not in src  # the recorded cookie is never copied
    assert {"from asgiref.sync import sync_to_async", "from django.test import Client"} <= set(
        test.imports
    )
    assert_formatted(module_of(test))
