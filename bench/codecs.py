"""``python -m bench.codecs``: the event codecs per event, today's against msgspec's.

Not a figure of ``python -m bench``: a focused A/B in one process (timeit, best of several
repeats, so the machine's load mostly cancels) that decided whether to adopt msgspec for the
event schema and the pipe (see README.md, "msgspec"). Rows, per event, in microseconds:

* *pipe, today*: :func:`asgi_dashboard.eventpipe.frame` of a batch (pack + marshal) and
  :class:`~asgi_dashboard.eventpipe.FrameReader` reading it back into dataclasses.
* *JSON, today*: :func:`asgi_dashboard.events.encode` / :func:`~asgi_dashboard.events.decode`
  per line (``--json``, exports).
* *msgspec msgpack, today's dataclasses*: msgspec encodes the schema's dataclasses as they are
  (no schema change); a batch is a list of ``(wire name, event)``, decoded with one typed
  ``Decoder`` per event type.
* *msgspec Structs*: the same schema rewritten as frozen tagged ``msgspec.Struct``s (mirrors
  generated here from the dataclasses: same fields, types, defaults), ``array_like`` for the
  pipe, tag field ``event`` for JSON: what adopting msgspec for the schema would give.
  Building the event object is measured too, since the server process builds one per request.

msgspec is optional: without it only today's rows print.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import timeit
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin, get_type_hints

from asgi_dashboard import events as ev
from asgi_dashboard.eventpipe import FrameReader, frame

BATCH = 100


def sample_events() -> dict[str, ev.Event]:
    """A demo-like request (headers, one statement with parameters and its project line), a
    WebSocket frame and a log record."""
    source = ev.FrameInfo(
        "/srv/demo/polls/views.py", 42, "detail", "q = Question.objects.get(pk=pk)"
    )
    sql = ev.SqlQuery(
        sql='SELECT "polls_question"."id", "polls_question"."text" FROM "polls_question" '
        'WHERE "polls_question"."id" = %s LIMIT 21',
        duration_ns=181_000,
        params=("1",),
        source=source,
    )
    headers = tuple((f"x-header-{i}", f"value {i} " * 3) for i in range(8))
    request = ev.RequestFinished(
        id="4242-17",
        method="GET",
        path="/polls/1/",
        status=200,
        client="127.0.0.1:53422",
        route="polls/<int:pk>/",
        url_name="detail",
        view="polls.views.detail",
        kind="sync",
        response_size=1834,
        total_ns=3_412_000,
        view_ns=2_100_000,
        thread_wait_ns=120_000,
        template_ns=800_000,
        template_in_view_ns=800_000,
        sql_count=1,
        sql_ns=181_000,
        sql=(sql,),
        sync_hops=3,
        request_headers=headers,
        response_headers=headers[:4],
        response_body="<html>" + "x" * 500,
    )
    frame_ev = ev.WsFrame(id="ws-3", direction="in", size=42, preview='{"message": "hello"}')
    log = ev.LogRecord(logger="polls", level="INFO", message="vote recorded for question 1")
    return {"RequestFinished": request, "WsFrame": frame_ev, "LogRecord": log}


def best_us(fn: Callable[[], object], per: int, repeat: int = 7) -> float:
    """Best of ``repeat`` timings of ``fn``, in microseconds per event (``per`` events a call)."""
    number = max(1, 2000 // per)
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number / per * 1e6


def distinct(event: ev.Event) -> list[ev.Event]:
    """``BATCH`` equal events that share no string objects (as events of real requests don't:
    marshal writes a repeated object once, which would flatter it)."""
    return [ev.decode(ev.encode(event)) for _ in range(BATCH)]


def today(event: ev.Event) -> dict[str, float]:
    batch = distinct(event)
    kwargs = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    cls = type(event)
    data = frame(batch)
    line = ev.encode(event)
    assert FrameReader().feed(data)[0] == batch and ev.decode(line) == event
    return {
        "pipe write": best_us(lambda: frame(batch), BATCH),
        "pipe read": best_us(lambda: FrameReader().feed(data), BATCH),
        "json encode": best_us(lambda: ev.encode(event), 1),
        "json decode": best_us(lambda: ev.decode(line), 1),
        "build": best_us(lambda: cls(**kwargs), 1),
    }


# -- msgspec ---------------------------------------------------------------------------------


def _mirrors(msgspec: Any, *, array_like: bool = False) -> dict[type, Any]:
    """A frozen msgspec Struct for every dataclass of the schema (same fields and defaults);
    ``array_like``: encoded as arrays of values (no field names), as the marshal frames are."""
    made: dict[type, Any] = {}

    def remap(tp: Any) -> Any:
        if dataclasses.is_dataclass(tp):
            return mirror(tp)  # type: ignore[arg-type]
        origin, args = get_origin(tp), get_args(tp)
        if origin is tuple:
            return tuple[tuple(a if a is Ellipsis else remap(a) for a in args)]  # type: ignore[misc]
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            return typing.Union[tuple(remap(a) for a in args)]  # noqa: UP007
        return tp

    def mirror(cls: type) -> Any:
        if cls in made:
            return made[cls]
        hints = get_type_hints(cls)
        fields: list[Any] = []
        for f in dataclasses.fields(cls):
            tp = remap(hints[f.name])
            if f.default is not dataclasses.MISSING:
                fields.append((f.name, tp, f.default))
            elif f.default_factory is not dataclasses.MISSING:
                fields.append((f.name, tp, msgspec.field(default_factory=f.default_factory)))
            else:
                fields.append((f.name, tp))
        is_event = issubclass(cls, ev.Event)
        made[cls] = msgspec.defstruct(
            cls.__name__,
            fields,
            frozen=True,
            kw_only=True,
            gc=False,
            tag=cls.name if is_event else None,  # type: ignore[attr-defined]
            tag_field="event" if is_event else None,
            array_like=array_like,
        )
        return made[cls]

    for cls in ev.EVENT_TYPES:
        mirror(cls)
    return made


def _to_struct(value: Any, made: dict[type, Any]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kwargs = {
            f.name: _to_struct(getattr(value, f.name), made) for f in dataclasses.fields(value)
        }
        return made[type(value)](**kwargs)
    if isinstance(value, tuple):
        return tuple(_to_struct(v, made) for v in value)
    return value


def with_msgspec(event: ev.Event, msgspec: Any) -> dict[str, float]:
    batch = distinct(event)
    # 1. msgpack of today's dataclasses, (name, event) pairs, one typed decoder per type.
    enc = msgspec.msgpack.Encoder()
    outer = msgspec.msgpack.Decoder(list[tuple[str, msgspec.Raw]])
    per_type = {cls.name: msgspec.msgpack.Decoder(cls) for cls in ev.EVENT_TYPES}
    pairs = enc.encode([(e.name, e) for e in batch])

    def read_pairs() -> list[ev.Event]:
        return [per_type[name].decode(raw) for name, raw in outer.decode(pairs)]

    assert read_pairs() == batch
    # 2. Struct mirrors: a tagged union, array_like for the pipe, tag field "event" for JSON.
    made = _mirrors(msgspec)
    union: Any = typing.Union[tuple(made[c] for c in ev.EVENT_TYPES)]  # noqa: UP007
    array = _mirrors(msgspec, array_like=True)
    struct = _to_struct(event, made)
    kwargs = {f.name: getattr(struct, f.name) for f in msgspec.structs.fields(struct)}
    sbatch = [_to_struct(e, array) for e in batch]
    arr_union: Any = typing.Union[tuple(array[c] for c in ev.EVENT_TYPES)]  # noqa: UP007
    sdec = msgspec.msgpack.Decoder(list[arr_union])
    sdata = enc.encode(sbatch)
    jenc = msgspec.json.Encoder()
    jdec = msgspec.json.Decoder(union)
    jline = jenc.encode(struct)
    assert sdec.decode(sdata) == sbatch and jdec.decode(jline) == struct
    build = made[type(event)]
    return {
        "dc msgpack write": best_us(lambda: enc.encode([(e.name, e) for e in batch]), BATCH),
        "dc msgpack read": best_us(read_pairs, BATCH),
        "struct pipe write": best_us(lambda: enc.encode(sbatch), BATCH),
        "struct pipe read": best_us(lambda: sdec.decode(sdata), BATCH),
        "struct json encode": best_us(lambda: jenc.encode(struct), 1),
        "struct json decode": best_us(lambda: jdec.decode(jline), 1),
        "struct build": best_us(lambda: build(**kwargs), 1),
        "pipe bytes/event today": len(frame(batch)) / BATCH,
        "pipe bytes/event struct": len(sdata) / BATCH,
    }


def import_ms(module: str) -> float:
    """Cumulative import time of ``module`` in a fresh interpreter (``-X importtime``), ms."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr
    for line in out.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    return float("nan")


def main() -> int:
    msgspec: Any
    try:
        import msgspec
    except ImportError:
        msgspec = None
    rows: list[tuple[str, str, float]] = []
    for label, event in sample_events().items():
        for what, value in today(event).items():
            rows.append((label, what, value))
        if msgspec is not None:
            for what, value in with_msgspec(event, msgspec).items():
                rows.append((label, what, value))
    print(f"{'event':<16} {'measure':<24} {'us/event (bytes)':>16}")
    for label, what, value in rows:
        print(f"{label:<16} {what:<24} {value:>16.2f}")
    print(f"import asgi_dashboard.events: {import_ms('asgi_dashboard.events'):.1f} ms")
    if msgspec is not None:
        print(f"import msgspec: {import_ms('msgspec'):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
