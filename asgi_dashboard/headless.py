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
import datetime
import errno
import os
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from .config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED, DashboardConfig
from .events import (
    CheckMessage,
    ConsoleOutput,
    Event,
    EventsDropped,
    ExceptionInfo,
    FilesChanged,
    LogRecord,
    LoopBlocked,
    LoopLag,
    MiddlewareAudit,
    ReloadFinished,
    ReloadLoopDetected,
    ReloadWatching,
    RequestFinished,
    ServerFailed,
    ServerStarted,
    ServerStarting,
    ServerStopped,
    WsAccepted,
    WsClosed,
    WsFrame,
    WsOpened,
    encode,
)
from .formatting import crash_next_step
from .redact import redact_event
from .runtime import Runtime, make_runtime

#: Exit code when stdout's reader went away: what a shell reports for a SIGPIPE death.
EXIT_STDOUT_CLOSED = 128 + signal.SIGPIPE


def ms(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e6:.1f} ms"


def _clock(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def format_location(error: ExceptionInfo | None, indent: str = "    ") -> str:
    """``File "x.py", line 5`` / the line / a caret for a SyntaxError, as Python prints them;
    ``at x.py:5 `line``` for other errors; "" when there is no project frame."""
    if error is None or error.frame is None:
        return ""
    f = error.frame
    if f.offset is None:
        return f"\n{indent}at {f.filename}:{f.lineno} `{f.line}`"
    out = f'\n{indent}File "{f.filename}", line {f.lineno}'
    if f.line:
        out += f"\n{indent}    {f.line}\n{indent}    {' ' * (f.offset - 1)}^"
    return out


#: Why a request was cut short (``RequestFinished.cancelled``), as the text line says it.
CUT_SHORT = {
    "reload": "cut by a reload: the client got 503 Retry-After",
    "invalid-http": "body was invalid HTTP: Uvicorn answered 400, the app saw a disconnect",
    "client-gone": "client disconnected before a response: nothing was sent",
    "no-response": "the app returned without a response: Uvicorn answered 500",
}


def format_request(e: RequestFinished) -> str:
    target = e.path + (f"?{e.query}" if e.query else "")
    if e.static:
        who = "[static]"
    elif e.view:
        who = f"{e.view} [{e.kind}]" + (f" route={e.route!r}" if e.route is not None else "")
        if e.answered_by:
            who += f" answered by {e.answered_by}"
    else:
        who = "(no view)"
    parts = [f"total {ms(e.total_ns)}"]
    if e.view_ns is not None:
        parts.append(f"view {ms(e.view_ns)}")
    if e.thread_wait_ns is not None:
        parts.append(f"thread wait {ms(e.thread_wait_ns)}")
    if e.template_ns:
        parts.append(f"template {ms(e.template_ns)}")
    parts.append(f"sql {e.sql_count} ({ms(e.sql_ns)})")
    line = f"{e.method} {target} -> {e.status}  {who}  " + ", ".join(parts)
    if e.cancelled:
        line += f"  [{CUT_SHORT.get(e.cancelled, e.cancelled)}]"
    if e.error is not None:
        line += f"\n    ! {e.error.type}: {e.error.message}"
        if e.error.frame is not None:
            f = e.error.frame
            line += f"\n      at {f.filename}:{f.lineno} `{f.line}`"
        if e.error.hint:
            line += f"\n      hint: {e.error.hint}"
    return line


def format_event(e: Event) -> str | None:
    """One readable line (or a few) per event; None for events not worth a line."""
    body: str | None
    match e:
        case RequestFinished():
            body = format_request(e)
        case ServerStarting():
            body = f"starting server (generation {e.generation}, {e.mode}) with {e.settings_module}"
            body += f" (from {e.settings_source})" if e.settings_source else ""
        case ServerStarted():
            body = (
                f"server running at {e.url}  pid {e.pid}  {e.mode}  app {e.asgi_app} "
                f"({e.asgi_app_source})  Django {e.django}  Uvicorn {e.uvicorn}"
                f"  started in {e.startup_s:.2f} s"
            )
            body += f"  env {e.env_file}" if e.env_file else ""
        case ServerStopped():
            how = f"exit code {e.exit_code}" if e.signal is None else f"signal {e.signal}"
            body = f"server pid {e.pid} stopped ({e.reason}, {how})"
            if e.reason == "crashed":
                body += f"; {crash_next_step(e)}"
        case ServerFailed():
            body = f"error: {e.message}" + format_location(e.error)
        case CheckMessage():
            body = f"check {e.level}: {e.check_id + ': ' if e.check_id else ''}{e.message}"
            body += f" (hint: {e.hint})" if e.hint else ""
        case LogRecord() if e.formatted is not None:
            # As the project's own handler prints it (its formatter), every line kept.
            body = f"{e.level:<8} {e.formatted.rstrip()}"
        case LogRecord():
            body = f"{e.level:<8} {e.logger}: {e.message}"
            if e.exc_text:
                # The last line names the exception; the whole traceback is in --json output
                # (and in the request event), not spread across the terminal.
                body += f"  [{e.exc_text.strip().splitlines()[-1]}]"
        case ConsoleOutput():
            body = f"{e.stream}: {e.text}"
        case WsOpened():
            body = f"WS {e.path} [{e.id}] handshake"
        case WsAccepted():
            verdict = "accepted" if e.accepted else f"rejected ({e.status})"
            body = f"WS [{e.id}] {verdict} by {e.consumer or '(no consumer)'}"
            if e.url_kwargs:
                body += " " + ", ".join(f"{k}={v}" for k, v in e.url_kwargs)
        case WsFrame():
            arrow = "->" if e.direction == "in" else "<-"
            shown = e.preview if not e.binary else f"<binary {e.size} B> {e.preview}"
            body = f"WS [{e.id}] {arrow} {shown[:200]}"
        case WsClosed():
            body = (
                f"WS [{e.id}] closed by {e.by} code {e.code} after {ms(e.duration_ns)} "
                f"({e.frames_in} in, {e.frames_out} out)"
            )
            if e.error is not None:
                body += f"\n    ! {e.error.type}: {e.error.message}"
        case ReloadWatching():
            body = f"watching {', '.join(e.roots)} for {' '.join(e.includes)}"
        case FilesChanged():
            body = f"changed: {', '.join(e.paths)} -> {e.action}"
            body += f" ({e.reason})" if e.reason else ""
        case ReloadFinished():
            outcome = "ok" if e.ok else "FAILED"
            took = ms(e.duration_ns)
            body = f"reload {outcome} via {e.path} in {took} (generation {e.generation})"
            body += f" ({e.reason})" if e.reason and e.path != "templates" else ""
            if e.error is not None:
                body += f"\n    ! {e.error.type}: {e.error.message}"
        case ReloadLoopDetected():
            body = (
                f"reload loop on {e.path} ({e.count} times): ignoring it from now on "
                f"(add --reload-exclude '{e.path.rsplit('/', 1)[-1]}' to make it permanent)"
            )
        case LoopBlocked():
            where = ""
            if e.frame is not None:
                where = f" in {e.frame.filename}:{e.frame.lineno} `{e.frame.line}`"
            during = f" during {', '.join(e.in_flight)}" if e.in_flight else ""
            body = f"loop blocked {ms(e.duration_ns)}{where}{during}"
        case LoopLag():
            body = None
        case MiddlewareAudit():
            from .diagnostics.audit import format_audit

            body = format_audit(e)
        case EventsDropped():
            body = f"warning: {e.count} events dropped (the dashboard could not keep up)"
        case _:
            body = f"{e.name}"
    return None if body is None else f"{_clock(e.ts)}  {body}"


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
        self.err = err
        self.done = asyncio.Event()
        self.exit_code = 0
        self.started_once = False
        #: Set when stdout's reader went away; nothing more is written.
        self.out_closed = False
        #: Set when the first start failed: the run ends, said once on stderr.
        self.failed_to_start = False

    def __call__(self, batch: Sequence[Event]) -> None:
        if self.out_closed or self.failed_to_start:
            return  # nothing after the failure that ends the run, nor to a closed stdout
        lines = []
        for event in batch:
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
        try:
            self.out.write(text)
            self.out.flush()
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

    def _said_on_stderr(self, event: Event) -> bool:
        return isinstance(event, ServerFailed) and not self.started_once

    def _track(self, event: Event) -> bool:
        """Follow the run; True when this event ends it."""
        if isinstance(event, ServerStarted):
            self.started_once = True
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
        elif (
            isinstance(event, ServerStopped)
            and event.reason == "crashed"
            and not self.config.reload
        ):
            self.exit_code = 1
            self.done.set()
            return True
        return False


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
