"""Frames as the WebSocket client logs them, and payload encoding for what the user types.

Split from :mod:`asgi_dashboard.wsclient` so the panel and the unit tests can use them without a
connection. No Textual, no websockets import.

A :class:`FrameRecord` keeps a bounded preview, never the whole payload: a 10 MB frame costs
:data:`TEXT_PREVIEW` characters in the log, and JSON is parsed only for frames up to
:data:`JSON_PARSE_LIMIT` bytes (pretty-printing a huge document would stall the UI).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

#: "out" client -> server, "in" server -> client, "info" a note from the client itself.
Direction = Literal["in", "out", "info"]
#: "note" is the client's own line in the log (connection opened, who closed, reconnecting).
FrameKind = Literal["text", "binary", "ping", "pong", "close", "error", "note"]
SendMode = Literal["text", "json", "hex", "base64"]
SEND_MODES: tuple[SendMode, ...] = ("text", "json", "hex", "base64")

#: Characters of a text frame kept in the log.
TEXT_PREVIEW = 16 * 1024
#: Bytes of a binary frame shown as hex.
BINARY_PREVIEW = 256
#: Text frames up to this size are parsed as JSON (objects and arrays only).
JSON_PARSE_LIMIT = 256 * 1024


class PayloadError(ValueError):
    """What the user typed cannot be sent in the chosen mode; the message says where and why."""


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One entry of a session's frame log."""

    seq: int
    direction: Direction
    kind: FrameKind
    #: Payload size in bytes (UTF-8 for text), exact even when the preview is cut.
    size: int = 0
    #: Text (bounded), space-separated hex of the first bytes (binary), or a close reason/note.
    preview: str = ""
    truncated: bool = False
    #: The parsed document when a text frame holds a JSON object or array.
    json: Any = None
    is_json: bool = False
    #: Close code for ``close`` entries.
    code: int | None = None
    #: Measured round trip for ``pong`` entries, nanoseconds.
    rtt_ns: int | None = None
    ts: float = field(default_factory=time.time)


def frame_record(
    seq: int,
    direction: Direction,
    kind: FrameKind,
    data: str | bytes = "",
    *,
    code: int | None = None,
    rtt_ns: int | None = None,
    ts: float | None = None,
) -> FrameRecord:
    """A bounded record of ``data`` (text or bytes)."""
    stamp = time.time() if ts is None else ts
    if isinstance(data, bytes):
        return FrameRecord(
            seq,
            direction,
            kind,
            size=len(data),
            preview=data[:BINARY_PREVIEW].hex(" "),
            truncated=len(data) > BINARY_PREVIEW,
            code=code,
            rtt_ns=rtt_ns,
            ts=stamp,
        )
    size = len(data.encode("utf-8", "surrogatepass"))
    parsed, is_json = None, False
    stripped = data.lstrip()
    if stripped[:1] in ("{", "[") and size <= JSON_PARSE_LIMIT:
        with contextlib.suppress(ValueError):
            parsed, is_json = json.loads(data), True
    return FrameRecord(
        seq,
        direction,
        kind,
        size=size,
        preview=data[:TEXT_PREVIEW],
        truncated=len(data) > TEXT_PREVIEW,
        json=parsed,
        is_json=is_json,
        code=code,
        rtt_ns=rtt_ns,
        ts=stamp,
    )


_HEX_NOISE = re.compile(r"0x|\\x|[\s:,_-]", re.IGNORECASE)


def encode_payload(text: str, mode: SendMode) -> str | bytes:
    """What to put on the wire for ``text`` typed in ``mode``; :class:`PayloadError` if invalid.

    JSON is validated but sent as typed (the user's formatting is part of what they test).
    Hex accepts ``de ad be ef``, ``de:ad``, ``0xde 0xad`` and ``\\xde\\xad``.
    """
    if mode == "text":
        return text
    if mode == "json":
        if not text.strip():
            raise PayloadError('Empty JSON: type a value, e.g. {"message": "hi"}.')
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise PayloadError(
                f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from None
        return text
    if mode == "hex":
        digits = _HEX_NOISE.sub("", text)
        if len(digits) % 2:
            raise PayloadError(f"Hex needs an even number of digits (got {len(digits)}).")
        bad = re.search(r"[^0-9a-fA-F]", digits)
        if bad:
            raise PayloadError(f"'{bad.group()}' is not a hex digit.")
        return bytes.fromhex(digits)
    if mode == "base64":
        # URL-safe alphabet and missing padding are accepted too: people paste both.
        compact = "".join(text.split()).replace("-", "+").replace("_", "/")
        compact += "=" * (-len(compact) % 4)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadError("Not valid base64 (standard or URL-safe alphabet).") from None
    raise PayloadError(f"Unknown send mode '{mode}': use one of {', '.join(SEND_MODES)}.")


def pretty_json(value: Any, limit: int = 20_000) -> str:
    """Indented JSON for display, cut at ``limit`` characters."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= limit else text[:limit] + "\n…"
