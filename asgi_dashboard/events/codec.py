"""The registry of event types and the JSON-lines codec (the public form of every event).

``encode``/``decode`` are what ``--json`` prints and exports read back: one object per line with
``"event"`` (the wire name), ``"v"`` (schema version) and the fields in declaration order;
unknown fields are ignored when decoding, so older readers survive newer writers, and a value of
the wrong type is a :class:`DecodeError` (msgspec validates against the dataclass's annotations,
``Literal`` sets included). The private pipe between the processes uses
:mod:`asgi_dashboard.eventpipe` (msgpack frames of the same dataclasses).

msgspec encodes and decodes the schema's dataclasses as they are (nested dataclasses, tuples,
``X | None``), so nothing here converts field by field; see bench/README.md ("msgspec") for the
measurements that chose it. It is imported on first use: every process imports the schema,
not every process writes or reads JSON (the server process sends events over the pipe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import msgspec

from .base import SCHEMA_VERSION, Event
from .diagnostics import EventsDropped, LoopBlocked, LoopLag, MiddlewareAudit
from .processes import ProcessAttached, ProcessDetached
from .server import (
    CheckMessage,
    ConsoleOutput,
    FilesChanged,
    LogRecord,
    ReloadFinished,
    ReloadLoopDetected,
    ReloadWatching,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
)
from .traffic import (
    HandlerRun,
    LayerOp,
    RequestFinished,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
)

EVENT_TYPES: tuple[type[Event], ...] = (
    ServerStarting,
    ServerStarted,
    ServerStopped,
    ServerFailed,
    CheckMessage,
    RequestFinished,
    WsOpened,
    WsAccepted,
    WsFrame,
    WsClosed,
    LayerOp,
    HandlerRun,
    LogRecord,
    ConsoleOutput,
    ReloadWatching,
    FilesChanged,
    ReloadFinished,
    ReloadLoopDetected,
    LoopBlocked,
    LoopLag,
    MiddlewareAudit,
    EventsDropped,
    ProcessAttached,
    ProcessDetached,
)
BY_NAME: dict[str, type[Event]] = {cls.name: cls for cls in EVENT_TYPES}


class DecodeError(ValueError):
    """A line that is not a valid event."""


def _prefix(name: str) -> bytes:
    return b'{"event":"%s","v":%d,' % (name.encode(), SCHEMA_VERSION)


class _Json:
    """msgspec's encoder and decoders, built on first use (see the module docstring)."""

    def __init__(self) -> None:
        import msgspec

        class Head(msgspec.Struct):
            """Just the ``event`` field of a line (msgspec skips the rest without building it)."""

            event: str

        self.msgspec = msgspec
        self.errors = (msgspec.ValidationError, msgspec.DecodeError)
        self.encoder = msgspec.json.Encoder()
        self.head = msgspec.json.Decoder(Head)
        self.decoders: dict[type, msgspec.json.Decoder[Any]] = {}
        #: ``{"event":"<name>","v":<version>,`` per class: the rest is msgspec's object.
        self.prefixes = {cls: _prefix(cls.name) for cls in EVENT_TYPES}

    def decoder(self, cls: type[Event]) -> msgspec.json.Decoder[Any]:
        dec = self.decoders.get(cls)
        if dec is None:
            dec = self.decoders[cls] = self.msgspec.json.Decoder(cls)
        return dec


_JSON: _Json | None = None


def _json() -> _Json:
    global _JSON
    if _JSON is None:
        _JSON = _Json()
    return _JSON


def encode(event: Event) -> bytes:
    """One JSON line (with the trailing newline), UTF-8: ``event`` and ``v``, then the fields.

    The same bytes as ``json.dumps(to_dict(event), separators=(",", ":"), ensure_ascii=False)``
    but for the spelling of floats in exponent form (``1e-05``: msgspec writes ``0.00001``),
    which the schema's floats (wall times, seconds of start-up) do not reach.
    """
    codec = _JSON or _json()
    prefix = codec.prefixes.get(type(event))
    if prefix is None:  # an Event subclass outside the registry
        prefix = _prefix(event.name)
    # Every event has at least ``ts``, so msgspec's object is never "{}".
    return prefix + codec.encoder.encode(event)[1:] + b"\n"


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event, with ``event`` and ``v`` first."""
    out: dict[str, Any] = {"event": event.name, "v": SCHEMA_VERSION}
    out.update((_JSON or _json()).msgspec.to_builtins(event))
    return out


def _event_class(name: object, shown: object) -> type[Event]:
    cls = BY_NAME.get(name) if isinstance(name, str) else None
    if cls is None:
        raise DecodeError(f"not an asgi-dash event: {shown!r:.80}")
    return cls


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form; unknown fields are ignored (forward compatible)."""
    codec = _JSON or _json()
    cls = _event_class(data.get("event") if isinstance(data, dict) else None, data)
    try:
        event: Event = codec.msgspec.convert(data, cls)
    except codec.errors as exc:
        raise DecodeError(f"malformed {cls.name} event: {exc}") from exc
    return event


def decode(line: bytes | str) -> Event:
    """Decode one JSON line."""
    codec = _JSON or _json()
    try:
        name = codec.head.decode(line).event
    except codec.msgspec.ValidationError as exc:
        raise DecodeError(f"not an asgi-dash event: {line!r:.80}") from exc
    except codec.msgspec.DecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    cls = _event_class(name, line)
    try:
        event: Event = codec.decoder(cls).decode(line)
    except codec.errors as exc:
        raise DecodeError(f"malformed {cls.name} event: {exc}") from exc
    return event
