"""Unit tests for the WebSocket client's pure parts and its bounded waits (no Django server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from asgi_dashboard.wsclient import ClientSession, SessionOptions, origin_for
from asgi_dashboard.wsframes import (
    BINARY_PREVIEW,
    TEXT_PREVIEW,
    PayloadError,
    encode_payload,
    frame_record,
    pretty_json,
)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("ws://127.0.0.1:8000/ws/echo/", "http://127.0.0.1:8000"),
        ("wss://example.com/x", "https://example.com"),
        ("ws://user:pw@host:1/", "http://host:1"),
        ("http://127.0.0.1/", None),
        ("ws://", None),
    ],
)
def test_origin_is_derived_from_the_url(url: str, origin: str | None) -> None:
    assert origin_for(url) == origin


def test_text_and_json_payloads() -> None:
    assert encode_payload("hi", "text") == "hi"
    assert encode_payload('{"a": 1}', "json") == '{"a": 1}'  # sent as typed
    with pytest.raises(PayloadError, match=r"line 2, column 1"):
        encode_payload('{"a": 1,\n}', "json")
    with pytest.raises(PayloadError, match="Empty JSON"):
        encode_payload("  ", "json")


@pytest.mark.parametrize(
    "typed",
    ["de ad be ef", "de:ad:be:ef", "0xde 0xad 0xbe 0xef", "\\xde\\xad\\xbe\\xef", "DEADBEEF"],
)
def test_hex_accepts_the_usual_spellings(typed: str) -> None:
    assert encode_payload(typed, "hex") == b"\xde\xad\xbe\xef"


def test_bad_binary_input_is_explained() -> None:
    with pytest.raises(PayloadError, match="even number"):
        encode_payload("abc", "hex")
    with pytest.raises(PayloadError, match="'z' is not a hex digit"):
        encode_payload("zz", "hex")
    with pytest.raises(PayloadError, match="base64"):
        encode_payload("!!!!", "base64")
    assert encode_payload("AAEC", "base64") == b"\x00\x01\x02"
    assert encode_payload("-_8", "base64") == b"\xfb\xff"  # URL-safe, unpadded


def test_frame_records_are_bounded() -> None:
    big = "x" * (TEXT_PREVIEW * 4)
    record = frame_record(1, "in", "text", big)
    assert record.size == len(big) and record.truncated and len(record.preview) == TEXT_PREVIEW
    blob = bytes(range(256)) * 8
    record = frame_record(2, "in", "binary", blob)
    assert record.size == len(blob) and record.truncated
    assert record.preview.split(" ")[:3] == ["00", "01", "02"]
    assert len(record.preview.split(" ")) == BINARY_PREVIEW
    utf8 = frame_record(3, "out", "text", "héllo")
    assert utf8.size == 6


def test_json_frames_are_parsed_only_for_objects_and_arrays() -> None:
    assert frame_record(1, "in", "text", '{"a": [1, 2]}').json == {"a": [1, 2]}
    assert not frame_record(1, "in", "text", "42").is_json
    assert not frame_record(1, "in", "text", "{not json").is_json
    assert pretty_json({"a": 1}) == '{\n  "a": 1\n}'


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts and never answers the handshake."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        for w in writers:
            w.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    session = ClientSession(
        SessionOptions(url=f"ws://127.0.0.1:{silent_server}/", open_timeout=0.5)
    )
    start = time.monotonic()
    result = await session.connect()
    assert result.outcome == "timeout" and "0.5 s" in result.message
    assert time.monotonic() - start < 3
    assert session.state == "failed"


async def test_sending_when_not_connected_is_an_error_not_a_hang() -> None:
    session = ClientSession(SessionOptions(url="ws://127.0.0.1:1/"))
    with pytest.raises(ConnectionError, match="not connected"):
        await session.send("hi")
    with pytest.raises(PayloadError):
        await session.send("{", "json")  # validation comes first
    await session.close()  # closing an idle session is a no-op
    await session.aclose()


async def test_listener_sees_states_in_order() -> None:
    seen: list[str] = []
    session = ClientSession(
        SessionOptions(url="ws://127.0.0.1:1/"),
        lambda s, u: seen.append(getattr(u, "state", None) or type(u).__name__),
    )
    result = await session.connect()
    assert result.outcome == "refused"
    # The refusal is also written to the session's own log (one FrameRecord) between the states.
    assert [u for u in seen if u != "FrameRecord"] == ["connecting", "HandshakeResult", "failed"]
    assert [f.kind for f in session.frames] == ["error"] and seen.count("FrameRecord") == 1


def test_client_and_tools_never_import_textual() -> None:
    """Checked in a fresh interpreter, so other tests' imports cannot hide a violation."""
    import subprocess
    import sys

    code = (
        "import sys, asgi_dashboard.wsclient, asgi_dashboard.wsframes, "
        "asgi_dashboard.runtime.tools\n"
        "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(out.stdout.split())
    assert "textual" not in loaded and "django" not in loaded
