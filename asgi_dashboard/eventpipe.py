"""The event pipe between a server process and the dashboard: msgpack frames of the events.

The events are the typed dataclasses of :mod:`.events`; only their transport differs. JSON lines
stay the format of ``--json`` and of exports; on this private pipe msgspec's msgpack is cheaper
on both ends, and the writing end runs inside the server process, whose CPU the user's requests
share. See bench/README.md ("msgspec") for the per-event costs against the marshal frames used
before.

A frame is a 4-byte little-endian length, then a msgpack array of ``[wire name, event]`` pairs,
the event a map of its fields (msgspec's form of a dataclass, nested ones included). The reader
checks each event against its dataclass's annotations: a bad one is reported and skipped, the
rest of the frame is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import msgspec

from .events import BY_NAME, DecodeError, Event

_LENGTH = struct.Struct("<I")
#: Far above any real batch (at most 2,000 events of at most ~200 KB); a larger length means
#: the stream is not ours, and the reader stops instead of buffering forever.
MAX_FRAME = 256 * 1024 * 1024


class _Msgpack:
    """msgspec's encoder and decoders, built on first use: importing msgspec costs the server
    process start-up time, the first frame is only written once it serves."""

    def __init__(self) -> None:
        import msgspec

        self.errors = (msgspec.ValidationError, msgspec.DecodeError)
        self.encoder = msgspec.msgpack.Encoder()
        #: A frame's body: pairs whose second half is decoded by the event type's own decoder.
        self.batch = msgspec.msgpack.Decoder(list[tuple[str, msgspec.Raw]])
        self.decoders: dict[str, msgspec.msgpack.Decoder[Any]] = {
            name: msgspec.msgpack.Decoder(cls) for name, cls in BY_NAME.items()
        }


_MSGPACK: _Msgpack | None = None


def _msgpack() -> _Msgpack:
    global _MSGPACK
    if _MSGPACK is None:
        _MSGPACK = _Msgpack()
    return _MSGPACK


def pack(event: Event) -> tuple[str, Event]:
    """An event's place in a frame: ``(wire name, event)``."""
    return (event.name, event)


def frame(events: Sequence[Event]) -> bytes:
    """One frame holding ``events``, ready for a single ``os.write``."""
    body = (_MSGPACK or _msgpack()).encoder.encode([(e.name, e) for e in events])
    return _LENGTH.pack(len(body)) + body


def unpack(name: str, raw: bytes | msgspec.Raw) -> Event:
    """The event of a ``(wire name, encoded event)`` pair."""
    codec = _MSGPACK or _msgpack()
    decoder = codec.decoders.get(name)
    if decoder is None:
        raise DecodeError(f"not an asgi-dash event: {name!r:.80}")
    try:
        event: Event = decoder.decode(raw)
    except codec.errors as exc:
        raise DecodeError(f"malformed {name} event: {exc}") from exc
    return event


class FrameReader:
    """Reassembles frames from the chunks a pipe delivers; :meth:`feed` returns whole events."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        #: Set once the stream turned out not to be frames (then everything else is ignored).
        self.broken: str | None = None

    def feed(self, data: bytes) -> tuple[list[Event], list[str]]:
        """(events decoded from every complete frame, problems found on the way)."""
        if self.broken:
            return [], []
        buffer = self.buffer
        buffer += data
        events: list[Event] = []
        problems: list[str] = []
        offset = 0
        while len(buffer) - offset >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, offset)
            if size > MAX_FRAME:
                self.broken = f"frame of {size} bytes: the event pipe is corrupt"
                problems.append(self.broken)
                buffer.clear()
                return events, problems
            end = offset + _LENGTH.size + size
            if len(buffer) < end:
                break
            codec = _MSGPACK or _msgpack()
            try:
                batch = codec.batch.decode(bytes(buffer[offset + _LENGTH.size : end]))
            except codec.errors as exc:
                problems.append(f"unreadable frame: {exc}")
                batch = []
            offset = end
            for name, raw in batch:
                try:
                    events.append(unpack(name, raw))
                except DecodeError as exc:
                    problems.append(str(exc))
        del buffer[:offset]
        return events, problems


__all__ = ["MAX_FRAME", "FrameReader", "frame", "pack", "unpack"]
