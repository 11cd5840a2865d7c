"""The event pipe's framing: every event survives it, in order, however the pipe splits it."""

from __future__ import annotations

import os
import struct

import msgspec
import pytest

from asgi_dashboard import eventpipe
from asgi_dashboard import events as ev
from asgi_dashboard.instrument.sink import PipeSink
from tests.unit.test_events import _sample


@pytest.mark.parametrize("cls", ev.EVENT_TYPES, ids=lambda c: c.name)
def test_every_event_round_trips_through_a_frame(cls: type[ev.Event]) -> None:
    event = _sample(cls)
    events, problems = eventpipe.FrameReader().feed(eventpipe.frame([event]))
    assert events == [event] and not problems
    # Nested values come back as the same types (dataclasses, tuples), not as plain tuples.
    assert type(events[0]) is cls


def test_frames_split_at_every_byte_reassemble_in_order() -> None:
    batch = [_sample(cls) for cls in ev.BY_NAME.values()]
    data = eventpipe.frame(batch[:5]) + eventpipe.frame(batch[5:])
    reader = eventpipe.FrameReader()
    got: list[ev.Event] = []
    for i in range(len(data)):  # the worst a pipe can do: one byte per read
        events, problems = reader.feed(data[i : i + 1])
        assert not problems
        got += events
    assert got == batch
    assert not reader.buffer


def test_a_bad_event_is_reported_and_the_rest_of_the_frame_kept() -> None:
    good = ev.LogRecord(logger="a", level="INFO", message="m")
    body = msgspec.msgpack.encode([("no-such-event", 1), eventpipe.pack(good), ("log", "too few")])
    events, problems = eventpipe.FrameReader().feed(struct.pack("<I", len(body)) + body)
    assert events == [good]
    assert len(problems) == 2 and "no-such-event" in problems[0] and "log" in problems[1]


def test_a_stream_that_is_not_frames_stops_the_reader_instead_of_buffering() -> None:
    reader = eventpipe.FrameReader()
    events, problems = reader.feed(b'{"event": "log"}\n' * 3)  # JSON lines are not frames
    assert events == [] and problems and "corrupt" in problems[0]
    assert reader.feed(eventpipe.frame([ev.ConsoleOutput(stream="stdout", text="x")])) == ([], [])


def test_pipe_sink_writes_frames_the_reader_decodes() -> None:
    read_fd, write_fd = os.pipe()
    sink = PipeSink(write_fd, batch_window=0)
    sent = [ev.ConsoleOutput(stream="stdout", text=f"line {i}") for i in range(500)]
    for event in sent:
        sink.emit(event)
    sink.close()
    os.close(write_fd)
    reader = eventpipe.FrameReader()
    got: list[ev.Event] = []
    while chunk := os.read(read_fd, 4096):
        events, problems = reader.feed(chunk)
        assert not problems
        got += events
    os.close(read_fd)
    assert got == sent
