"""The registry of event types and the JSON-lines codec (the public form of every event).

``encode``/``decode`` are what ``--json`` prints and exports read back: one object per line with
``"event"`` (the wire name), ``"v"`` (schema version) and the fields; unknown fields are ignored
when decoding, so older readers survive newer writers. The private pipe between the processes
uses :mod:`asgi_dashboard.eventpipe` instead (marshal frames, cheaper on both ends).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from .base import SCHEMA_VERSION, Event, field_names
from .diagnostics import EventsDropped, LoopBlocked, LoopLag, MiddlewareAudit
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
from .traffic import RequestFinished, WsAccepted, WsClosed, WsFrame, WsOpened

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
)
BY_NAME: dict[str, type[Event]] = {cls.name: cls for cls in EVENT_TYPES}

E = TypeVar("E", bound=Event)


class DecodeError(ValueError):
    """A line that is not a valid event."""


def _to_json(value: Any) -> Any:
    # Hot path (one call per field of every request event): plain values first.
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _to_json(getattr(value, name)) for name in field_names(type(value))}
    return value


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event, with ``event`` and ``v`` first."""
    out: dict[str, Any] = {"event": event.name, "v": SCHEMA_VERSION}
    for name in field_names(type(event)):
        out[name] = _to_json(getattr(event, name))
    return out


# Encoding fast path (the child's event writer runs it once per event): a per-class plan says
# which fields can hold a nested dataclass; every other field goes to the C JSON encoder as is
# (tuples serialize exactly like lists), and the encoder object is built once. Same bytes as
# ``json.dumps(to_dict(event), separators=(",", ":"), ensure_ascii=False)``; measured on a demo
# ``/sync/`` RequestFinished: 30 us -> see bench/README.md for the numbers.
_WIRE_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def holds_dataclass(tp: Any) -> bool:
    if dataclasses.is_dataclass(tp):
        return True
    return any(holds_dataclass(arg) for arg in get_args(tp) if arg is not Ellipsis)


def _wire_plan(cls: type) -> tuple[tuple[str, bool], ...]:
    plan = _WIRE_PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = tuple((f.name, holds_dataclass(hints[f.name])) for f in dataclasses.fields(cls))
        _WIRE_PLANS[cls] = plan
    return plan


def _default(value: Any) -> Any:
    # A dataclass in a field whose annotation does not say so: convert it as to_dict would.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _to_json(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, default=_default
)


def encode(event: Event) -> bytes:
    """One JSON line (with the trailing newline), UTF-8."""
    out: dict[str, Any] = {"event": event.name, "v": SCHEMA_VERSION}
    for name, nested in _wire_plan(type(event)):
        value = getattr(event, name)
        out[name] = _to_json(value) if nested and value is not None else value
    return (_ENCODER.encode(out) + "\n").encode()


# Decoding: per class, a list of (field name, converter) computed once from the type hints, so
# nested dataclasses and tuples come back as the same types that went in.

_Converter = Any
_DECODERS: dict[type, list[tuple[str, _Converter]]] = {}


def _identity(value: Any) -> Any:
    return value


def _converter_for(tp: Any) -> _Converter:
    origin = get_origin(tp)
    args = get_args(tp)
    if dataclasses.is_dataclass(tp):
        return lambda v, _tp=tp: None if v is None else _from_json(_tp, v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            inner = _converter_for(args[0])
            if inner is None:
                return tuple
            if inner is tuple:  # e.g. headers: tuple[tuple[str, str], ...]
                return lambda v: tuple(map(tuple, v))
            return lambda v: tuple(map(inner, v))
        if all(_converter_for(a) is None for a in args):
            return tuple  # a fixed-size tuple of plain values
        inners = [_converter_for(a) or _identity for a in args]
        return lambda v: tuple(c(x) for c, x in zip(inners, v, strict=True))
    if args and type(None) in args:  # Optional[X]
        real = [a for a in args if a is not type(None)]
        if len(real) == 1:
            inner = _converter_for(real[0])
            if inner is not None:
                return lambda v: None if v is None else inner(v)
    return None  # plain JSON value


def _plan(cls: type) -> list[tuple[str, _Converter]]:
    plan = _DECODERS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        plan = [(f.name, _converter_for(hints[f.name])) for f in dataclasses.fields(cls)]
        _DECODERS[cls] = plan
    return plan


def _from_json(cls: type[E], data: dict[str, Any]) -> E:
    kwargs = {}
    for name, conv in _plan(cls):
        if name in data:
            value = data[name]
            kwargs[name] = conv(value) if conv is not None else value
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form; unknown fields are ignored (forward compatible)."""
    try:
        cls = BY_NAME[data["event"]]
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"not an asgi-dash event: {data!r:.80}") from exc
    try:
        return _from_json(cls, data)
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"malformed {cls.name} event: {exc}") from exc


def decode(line: bytes | str) -> Event:
    """Decode one JSON line."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from exc
    return from_dict(data)
