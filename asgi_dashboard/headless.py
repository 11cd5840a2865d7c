"""``asgi-dash --headless``: the same runtime with no TUI, one printed line per event.

Readable lines by default; ``--json`` prints the events' wire form (one JSON object per line,
see :mod:`asgi_dashboard.events`), for jq and scripts. Exit codes: 0 after Ctrl+C,
:data:`~asgi_dashboard.config.EXIT_BAD_INPUT` when the port cannot be bound,
:data:`~asgi_dashboard.config.EXIT_PROJECT_FAILED` when the project fails to load on first start,
1 when the server crashes with reloading off, :data:`EXIT_STDOUT_CLOSED` (141) when whoever reads
stdout went away (``asgi-dash --headless --json | head``).

A closed stdout stops the server like Ctrl+C does: the port is freed, no traceback is printed,
and the exit code is the one the shell reports for a tool killed by SIGPIPE (128 + 13), as
``yes | head`` gives, so ``set -o pipefail`` scripts can tell it from a clean stop. When stdout
is a pipe, its reader going away is noticed at once (epoll reports an error on the write end), not
only at the next write: an idle server has nothing to write.

``--json`` redacts secrets as the HAR export does (:mod:`asgi_dashboard.redact`) unless
``--keep-secrets``. A failure before the first start is said once, on stderr (the readable stream
does not repeat it on stdout; the ``--json`` stream keeps its ``server-failed`` event, which is
data), and nothing is printed after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import os
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from typing import TextIO, TypeGuard

from .config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED, DashboardConfig
from .describe import CUT_SHORT, describe, format_location, format_request
from .events import Event, ServerFailed, ServerStarted, ServerStopped, encode
from .formatting import clock
from .model.status import channel_layer_warning
from .redact import redact_event
from .runtime import Runtime, make_runtime

#: Exit code when stdout's reader went away: what a shell reports for a SIGPIPE death.
EXIT_STDOUT_CLOSED = 128 + signal.SIGPIPE


def format_event(e: Event) -> str | None:
    """The event's line (see :func:`asgi_dashboard.describe.describe`) after its wall-clock
    time; None for events not worth a line."""
    line = describe(e).line
    return None if line is None else f"{clock(e.ts)}  {line}"


class HeadlessPrinter:
    """Prints events and decides when the headless run ends."""

    def __init__(
        self,
        config: DashboardConfig,
        json_lines: bool,
        out: TextIO,
        *,
        keep_secrets: bool = False,
        err: TextIO | None = None,
    ) -> None:
        self.config = config
        self.json_lines = json_lines
        self.keep_secrets = keep_secrets
        self.out = out
        #: stdout's file descriptor, written with ``os.write`` (see :meth:`write`); None for a
        #: stream without one (tests print into a StringIO).
        self.out_fd = _fileno(out)
        self.err = err
        self.done = asyncio.Event()
        self.exit_code = 0
        self.started_once = False
        #: Set when stdout's reader went away; nothing more is written.
        self.out_closed = False
        #: Set when the first start failed: the run ends, said once on stderr.
        self.failed_to_start = False
        #: The in-memory channel layer warning was printed (once per run).
        self.layer_warned = False

    def __call__(self, batch: Sequence[Event]) -> None:
        if self.out_closed or self.failed_to_start:
            return  # nothing after the failure that ends the run, nor to a closed stdout
        lines = []
        for event in batch:
            if self._ends_run_on_crash(event):
                # Without reload a headless run ends on a crash (exit 1, as documented), so the
                # restart the supervisor scheduled never happens: do not announce it.
                event = dataclasses.replace(event, restart_in_s=None, crash_loop=False)
            if self.json_lines:
                if not self.keep_secrets:
                    event = redact_event(event)
                # The codec's own encoder: the same bytes as the pipe, ~2.5x cheaper than
                # json.dumps(to_dict(...)) (this runs once per request in the parent).
                lines.append(encode(event).decode().rstrip("\n"))
            elif not self._said_on_stderr(event):
                line = format_event(event)
                if line is not None:
                    lines.append(line)
            if self._track(event) and self.failed_to_start:
                break  # the run ends here: later events in the batch would be stray lines
        if lines:
            self.write("\n".join(lines) + "\n")

    def write(self, text: str) -> None:
        """Write ``text`` whole, or not at all once the reader is gone.

        To a file descriptor, with an ``os.write`` loop: a reader slower than the server fills the
        pipe, and a write blocked on a full pipe can return early (a signal: Ctrl+C arrives
        exactly then). Through ``sys.stdout``'s buffered writer, text of more than a pipe's 64 KiB
        was then seen cut in its middle (a line of hops and SQL is several KiB); the loop writes
        what is left (``os.write`` itself retries an interrupted call, PEP 475)."""
        try:
            if self.out_fd is None:
                self.out.write(text)
                self.out.flush()
                return
            view = memoryview(text.encode("utf-8", errors="replace"))
            while view:
                written = os.write(self.out_fd, view)
                view = view[written:]
        except OSError as exc:  # BrokenPipeError, or EPIPE wrapped otherwise
            if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
                self.stdout_closed()
            else:
                raise

    def stdout_closed(self) -> None:
        """The reader of stdout is gone: stop, exit :data:`EXIT_STDOUT_CLOSED`, no traceback."""
        if self.out_closed:
            return
        self.out_closed = True
        if not self.done.is_set():
            self.exit_code = EXIT_STDOUT_CLOSED
        self.done.set()
        # Text still buffered for the closed pipe would raise again when Python flushes stdout
        # at exit ("Exception ignored ... BrokenPipeError"): point the fd at /dev/null, as the
        # Python docs advise for SIGPIPE (library/signal.html#note-on-sigpipe).
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)

    def _ends_run_on_crash(self, event: Event) -> TypeGuard[ServerStopped]:
        # One worker of several (--workers N) is restarted in place while the others serve.
        return (
            isinstance(event, ServerStopped)
            and event.reason == "crashed"
            and not self.config.reload
            and not event.worker
        )

    def _said_on_stderr(self, event: Event) -> bool:
        return isinstance(event, ServerFailed) and not self.started_once

    def _warn_layer(self, event: ServerStarted) -> None:
        """Once, on stderr: several workers with an in-memory channel layer (``--workers``)."""
        warning = channel_layer_warning(event)
        if warning and not self.layer_warned:
            self.layer_warned = True
            with contextlib.suppress(OSError, ValueError):
                print(f"asgi-dash: warning: {warning}", file=self.err or sys.stderr, flush=True)

    def _track(self, event: Event) -> bool:
        """Follow the run; True when this event ends it."""
        if isinstance(event, ServerStarted):
            self.started_once = True
            self._warn_layer(event)
        elif isinstance(event, ServerFailed) and not self.started_once:
            self.exit_code = EXIT_BAD_INPUT if event.phase == "bind" else EXIT_PROJECT_FAILED
            # Once, on stderr even with --json: stdout stays one JSON object per line.
            with contextlib.suppress(OSError, ValueError):
                print(
                    f"asgi-dash: {event.message}{format_location(event.error, '  ')}",
                    file=self.err or sys.stderr,
                    flush=True,
                )
            self.failed_to_start = True
            self.done.set()
            return True
        elif self._ends_run_on_crash(event):
            self.exit_code = 1
            self.done.set()
            return True
        return False


def _fileno(out: TextIO) -> int | None:
    """``out``'s descriptor, after flushing what was buffered (the order of output is kept)."""
    try:
        out.flush()
        return out.fileno()
    except (OSError, ValueError, AttributeError):
        return None


def watch_stdout_reader(
    loop: asyncio.AbstractEventLoop, out: TextIO, on_closed: Callable[[], None]
) -> Callable[[], None]:
    """Call ``on_closed`` as soon as the reader of a piped stdout goes away; returns an undo.

    epoll reports EPOLLERR on a pipe's write end once its last reader closed (Linux
    ``pipe_poll``), and asyncio's selector hands an error to the fd's reader callback. Only for
    pipes: a terminal's fd would become readable when the user types, and a regular file cannot
    be polled. Elsewhere a closed stdout is noticed at the next write.
    """

    def nothing() -> None:
        pass

    try:
        fd = out.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return nothing

        def closed() -> None:
            loop.remove_reader(fd)
            on_closed()

        def undo() -> None:
            loop.remove_reader(fd)

        loop.add_reader(fd, closed)
    except (OSError, ValueError, AttributeError, NotImplementedError):
        return nothing
    return undo


async def run_headless(
    config: DashboardConfig,
    *,
    json_lines: bool = False,
    out: TextIO | None = None,
    keep_secrets: bool = False,
) -> int:
    printer = HeadlessPrinter(config, json_lines, out or sys.stdout, keep_secrets=keep_secrets)
    runtime: Runtime = make_runtime(config, printer)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, printer.done.set)
    unwatch = watch_stdout_reader(loop, printer.out, printer.stdout_closed)
    try:
        await runtime.start()
        await printer.done.wait()
    finally:
        unwatch()
        await runtime.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return printer.exit_code


__all__ = [
    "CUT_SHORT",
    "EXIT_STDOUT_CLOSED",
    "HeadlessPrinter",
    "format_event",
    "format_location",
    "format_request",
    "run_headless",
    "watch_stdout_reader",
]
