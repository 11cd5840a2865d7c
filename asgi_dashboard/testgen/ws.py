"""An async pytest test that replays one recorded WebSocket connection with Channels' tester.

``channels.testing.WebsocketCommunicator`` talks to the project's ASGI application (the one
``settings.ASGI_APPLICATION`` names, middleware stack and URL router included) in memory. The
test sends the client's frames in the recorded order and, between them, expects the server's
frames in order: JSON text compared as JSON (key order and spacing do not matter), other text
and binary frames compared exactly. Client frames are replayed byte for byte (``send_to``);
``send_json_to`` only when it would send the very same text. Then the close: the test
disconnects when the client closed (or the connection was still open), expects the server's
close when the server closed, and expects the consumer's exception when it raised.

``django_db(transaction=True)``: the consumer reaches the database from other threads
(``database_sync_to_async``), which a test transaction would not let it see;
``serialized_rollback=True`` restores the rows migrations created (the flush after a
transactional test empties every table); the ``asyncio`` mark for pytest-asyncio.

Frames another connection caused (a message from another member of the same chat group) are in
the recording too; alone in the test, the connection will not get them, and the user deletes
those lines (a limit of replaying one connection).
"""

from __future__ import annotations

import json

from ..events import WsFrame
from ..model.ws import ServerConnection
from .layout import INDENT, Atom, Brackets, Node, Pair, call, literal, py_bytes, py_str, statement
from .names import GeneratedTest, docstring, function_name, kept_headers, recorded_at

_IMPORTS = (
    "import pytest",
    "from channels.testing import WebsocketCommunicator",
    "from django.conf import settings",
    "from django.utils.module_loading import import_string",
)
_LOGIN_IMPORTS = ("from asgiref.sync import sync_to_async", "from django.test import Client")
#: Channels' own test client. ``channels/testing/__init__.py`` also imports its live-server test
#: case, which needs daphne (``pip install 'channels[daphne]'``, as Channels' docs install it):
#: the generated file says so once, above the first WebSocket test, rather than carry a
#: workaround for a project without it.
COMMUNICATOR_NOTE = (
    "# WebSocket tests use Channels' WebsocketCommunicator: channels.testing needs daphne\n"
    "# installed (pip install 'channels[daphne]')."
)


def ws_test(conn: ServerConnection) -> GeneratedTest:
    """The test function that replays the connection ``conn``."""
    opened, i1 = conn.opened, INDENT
    user = conn.accepted.user if conn.accepted is not None else None
    todos: list[str] = []
    name = function_name("ws", opened.path)
    target = opened.path + (f"?{opened.query}" if opened.query else "")
    lines = [
        "@pytest.mark.asyncio",
        "@pytest.mark.django_db(transaction=True, serialized_rollback=True)",
        f"async def {name}({'django_user_model' if user else ''}):",
        docstring(_summary(conn, target), recorded_at(conn.opened.ts), i1),
        f"{i1}application = import_string(settings.ASGI_APPLICATION)",
        *_login_lines(user, i1),
        statement(_communicator(conn, target, bool(user)), i1, "communicator = "),
        f"{i1}connected, _ = await communicator.connect()",
    ]
    imports = _IMPORTS + (_LOGIN_IMPORTS if user else ())
    if conn.accepted is not None and not conn.accepted.accepted:
        lines.append(
            f"{i1}assert not connected  # rejected with HTTP {conn.accepted.status or 403}"
        )
        return GeneratedTest(name, "\n".join(lines), imports, (), COMMUNICATOR_NOTE)
    lines.append(f"{i1}assert connected")
    for frame in conn.frames:
        lines += _frame_lines(frame, todos)
    lines += _close_lines(conn)
    body = [*lines[:4], *(f"{i1}# TODO: {t}" for t in todos), *lines[4:]]
    return GeneratedTest(name, "\n".join(body), imports, tuple(todos), COMMUNICATOR_NOTE)


def _login_lines(user: str | None, i1: str) -> list[str]:
    """A session for the recorded user, made by the test Client; its cookie goes in the
    handshake (Channels' AuthMiddleware reads it as it read the browser's)."""
    if not user:
        return []
    get_user = Atom(f"await django_user_model.objects.aget(username={py_str(user)})")
    return [
        f"{i1}# Logged in as the recorded user: force_login's session, sent as its cookie.",
        f"{i1}client = Client()",
        statement(call("await sync_to_async(client.force_login)", get_user), i1),
        f"{i1}session = client.cookies[settings.SESSION_COOKIE_NAME].value",
    ]


def _summary(conn: ServerConnection, target: str) -> str:
    consumer = conn.accepted.consumer if conn.accepted is not None else None
    closed = conn.closed
    frames_in = sum(1 for f in conn.frames if f.direction == "in")
    frames_out = len(conn.frames) - frames_in
    end = f"closed by {closed.by} ({closed.code})" if closed is not None else "open"
    who = f" ({consumer})" if consumer else ""
    if conn.accepted is not None and conn.accepted.user:
        who += f" as {conn.accepted.user}"
    return f"WebSocket {target}{who}: {frames_in} in, {frames_out} out, {end}."


def _communicator(conn: ServerConnection, target: str, login: bool) -> Node:
    args: list[Node] = [Atom("application"), Atom(py_str(target))]
    headers = kept_headers(conn.opened.request_headers)
    pairs: tuple[Node, ...] = ()
    if headers:
        pairs = tuple(
            Brackets(
                "",
                "(",
                (Atom(py_bytes(k.encode("latin-1"))), Atom(py_bytes(v.encode("latin-1")))),
                ")",
            )
            for k, v in headers.items()
        )
    if login:
        cookie = Atom('f"{settings.SESSION_COOKIE_NAME}={session}".encode()')
        pairs = (*pairs, Brackets("", "(", (Atom('b"cookie"'), cookie), ")"))
    if pairs:
        args.append(Pair("headers", Brackets("", "[", pairs, "]")))
    if conn.opened.subprotocols:
        protocols = tuple(Atom(py_str(p)) for p in conn.opened.subprotocols)
        args.append(Pair("subprotocols", Brackets("", "[", protocols, "]")))
    return call("WebsocketCommunicator", *args)


def _json_value(text: str) -> object | None:
    """The frame's JSON object or array, or None when it is not one."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        value: object = json.loads(text)
    except ValueError:
        return None
    return value


def _frame_lines(frame: WsFrame, todos: list[str]) -> list[str]:
    i1 = INDENT
    if frame.truncated:
        todos.append(
            f"a {frame.direction} frame of {frame.size} bytes was cut at its preview: not replayed."
        )
        return [f"{i1}# TODO: {frame.direction} frame of {frame.size} bytes not kept whole"]
    if frame.binary:
        data = Atom(f"bytes.fromhex({py_str(frame.preview.replace(' ', ''))})")
        if frame.direction == "in":
            return [statement(call("await communicator.send_to", bytes_data=data), i1)]
        return [statement(data, i1, "assert await communicator.receive_from() == ")]
    value = _json_value(frame.preview)
    if frame.direction == "in":
        if value is not None and json.dumps(value) == frame.preview:
            return [statement(call("await communicator.send_json_to", literal(value)), i1)]
        text = Atom(py_str(frame.preview))
        return [statement(call("await communicator.send_to", text_data=text), i1)]
    if value is not None:
        return [statement(literal(value), i1, "assert await communicator.receive_json_from() == ")]
    return [
        statement(Atom(py_str(frame.preview)), i1, "assert await communicator.receive_from() == ")
    ]


def _close_lines(conn: ServerConnection) -> list[str]:
    i1, i2 = INDENT, INDENT * 2
    closed = conn.closed
    if closed is None or closed.by == "client":
        return [f"{i1}await communicator.disconnect()"]
    if closed.by == "error":
        kind = closed.error.type if closed.error is not None else "an exception"
        return [
            f"{i1}# The consumer raised {kind} here.",
            f"{i1}with pytest.raises(Exception):",
            f"{i2}await communicator.receive_output()",
        ]
    lines = [
        f"{i1}closing = await communicator.receive_output()",
        f'{i1}assert closing["type"] == "websocket.close"',
    ]
    if closed.code not in (None, 1000):
        lines.append(f'{i1}assert closing.get("code") == {closed.code}')
    return lines
