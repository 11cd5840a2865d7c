"""The event pipe between a server process and the dashboard: marshal-ed batches, not JSON lines.

The events are the typed dataclasses of :mod:`.events`; only their transport differs. JSON lines
stay the format of ``--json`` and of exports (readable, versioned, tolerant of unknown fields).
On this private pipe, between two processes of the same installation and the same Python,
:mod:`marshal` of plain tuples is far cheaper on both ends, and the writing end runs inside the
server process, whose CPU the user's requests share. Measured on a ``RequestFinished`` with one
SQL statement (2.3 KB as JSON): JSON encode 16 us and decode 21 us; see ``bench/`` figure 2 for
the pipeline as a whole.

A frame is a 4-byte little-endian length, then ``marshal.dumps`` of a tuple of events. An event
is ``(wire name, value, value, ...)`` with its field values in dataclass order; a nested
dataclass (``SqlQuery``, ``ExceptionInfo``, ``FrameInfo``, ``MiddlewareInfo``) travels as the tuple
of its own field values.
"""

from __future__ import annotations

import dataclasses
import marshal
import operator
import struct
from collections.abc import Callable, Sequence
from typing import Any, get_args, get_origin, get_type_hints

from .events import BY_NAME, DecodeError, Event
from .events.base import field_names as _fields
from .events.codec import holds_dataclass as _holds_dataclass

_LENGTH = struct.Struct("<I")
#: Far above any real batch (at most 2,000 events of at most ~200 KB); a larger length means
#: the stream is not ours, and the reader stops instead of buffering forever.
MAX_FRAME = 256 * 1024 * 1024

_Convert = Callable[[Any], Any]


# -- writing ---------------------------------------------------------------------------------------


#: Values that travel as they are: checked first, most nested values are one of these (a
#: statement's SQL, its parameters, a frame's file and line), and ``is_dataclass`` costs more.
_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})


def _pack_nested(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    packer = _NESTED_PACKERS.get(type(value))
    if packer is not None:
        return packer(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _nested_packer(type(value))(value)
    if isinstance(value, tuple | list):
        return tuple(_pack_nested(v) for v in value)
    return value


_NESTED_PACKERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _nested_packer(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """For one nested dataclass (``SqlQuery``, ``FrameInfo`` ...): value -> tuple of its field
    values, all read with one ``attrgetter`` call; only fields whose type holds a dataclass are
    packed further (a request's statements are packed once each: this runs per statement)."""
    names = _fields(cls)
    hints = get_type_hints(cls)
    nested = [i for i, name in enumerate(names) if _holds_dataclass(hints[name])]
    get_all = operator.attrgetter(*names) if len(names) > 1 else None

    def pack_value(value: Any) -> tuple[Any, ...]:
        values = get_all(value) if get_all else (getattr(value, names[0]),)
        if not nested:
            return values
        out = list(values)
        for i in nested:
            if out[i] is not None:
                out[i] = _pack_nested(out[i])
        return tuple(out)

    _NESTED_PACKERS[cls] = pack_value
    return pack_value


_PACKERS: dict[type, Callable[[Event], tuple[Any, ...]]] = {}


def _packer(cls: type) -> Callable[[Event], tuple[Any, ...]]:
    """For one class: event -> wire tuple, reading all fields with one ``attrgetter`` call."""
    names = _fields(cls)
    hints = get_type_hints(cls)
    nested = [i for i, name in enumerate(names, start=1) if _holds_dataclass(hints[name])]
    get_all = operator.attrgetter(*names) if len(names) > 1 else None
    wire_name: str = cls.name  # type: ignore[attr-defined]

    def pack_event(event: Event) -> tuple[Any, ...]:
        values = (wire_name, *get_all(event)) if get_all else (wire_name, getattr(event, names[0]))
        if not nested:
            return values
        out = list(values)
        for i in nested:
            if out[i] is not None:
                out[i] = _pack_nested(out[i])
        return tuple(out)

    _PACKERS[cls] = pack_event
    return pack_event


def pack(event: Event) -> tuple[Any, ...]:
    return (_PACKERS.get(type(event)) or _packer(type(event)))(event)


def frame(events: Sequence[Event]) -> bytes:
    """One frame holding ``events``, ready for a single ``os.write``."""
    body = marshal.dumps(tuple(pack(e) for e in events))
    return _LENGTH.pack(len(body)) + body


# -- reading ---------------------------------------------------------------------------------------


def _converter(tp: Any) -> _Convert | None:
    """How to rebuild a value of type ``tp`` from its wire form; None: it is already right.

    Tuples stay tuples through marshal, so only values that hold dataclasses need work.
    """
    if not _holds_dataclass(tp):
        return None
    if dataclasses.is_dataclass(tp):
        build = _builder(tp)  # type: ignore[arg-type]
        return lambda v: None if v is None else build(v)
    args = [a for a in get_args(tp) if a is not Ellipsis]
    if get_origin(tp) is tuple and len(args) == 1:  # tuple[X, ...]
        item = _converter(args[0])
        assert item is not None
        each: _Convert = item
        return lambda v: tuple(map(each, v))
    real = [a for a in args if a is not type(None)]
    if len(real) == 1:  # X | None
        value = _converter(real[0])
        assert value is not None
        present: _Convert = value
        return lambda v: None if v is None else present(v)
    raise TypeError(f"no wire form for {tp!r}")


_BUILDERS: dict[type, Callable[[Sequence[Any]], Any]] = {}


def _builder(cls: type) -> Callable[[Sequence[Any]], Any]:
    """For one class: field values in dataclass order -> instance."""
    built = _BUILDERS.get(cls)
    if built is not None:
        return built
    names = _fields(cls)
    hints = get_type_hints(cls)
    converters = [(i, c) for i, n in enumerate(names) if (c := _converter(hints[n])) is not None]

    def build(values: Sequence[Any]) -> Any:
        if len(values) != len(names):
            raise DecodeError(f"{cls.__name__}: {len(values)} values for {len(names)} fields")
        if converters:
            values = list(values)
            for i, convert in converters:
                values[i] = convert(values[i])
        return cls(**dict(zip(names, values, strict=True)))

    _BUILDERS[cls] = build
    return build


def unpack(wire: Sequence[Any]) -> Event:
    try:
        cls = BY_NAME[wire[0]]
    except (KeyError, IndexError, TypeError) as exc:
        raise DecodeError(f"not an asgi-dash event: {wire!r:.80}") from exc
    try:
        event: Event = _builder(cls)(wire[1:])
    except (TypeError, ValueError) as exc:
        raise DecodeError(f"malformed {cls.name} event: {exc}") from exc
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
            try:
                batch = marshal.loads(bytes(buffer[offset + _LENGTH.size : end]))
            except (EOFError, ValueError, TypeError) as exc:
                problems.append(f"unreadable frame: {exc}")
                batch = ()
            offset = end
            for wire in batch:
                try:
                    events.append(unpack(wire))
                except DecodeError as exc:
                    problems.append(str(exc))
        del buffer[:offset]
        return events, problems


__all__ = ["MAX_FRAME", "FrameReader", "frame", "pack", "unpack"]
