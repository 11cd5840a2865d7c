"""Words for the server's life: start, stop, failure, checks, log records, output, reloads."""

from __future__ import annotations

from ..events import (
    CheckMessage,
    ConsoleOutput,
    ExceptionInfo,
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
from ..formatting import crash_next_step, duration, ms
from .base import Description, Role, Segment, describes, entry, error_line, level_role


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


# -- server lifecycle --------------------------------------------------------------------------


@describes(ServerStarting, console=True)
def _starting(e: ServerStarting) -> Description:
    line = f"starting server (generation {e.generation}, {e.mode}) with {e.settings_module}"
    line += f" (from {e.settings_source})" if e.settings_source else ""
    return Description(
        line, entry("SERVER", "server", f"starting generation {e.generation} ({e.mode})")
    )


@describes(ServerStarted, console=True)
def _started(e: ServerStarted) -> Description:
    if e.mode == "collect":  # asgi-dash collect: no server of ours, a socket others report to
        shown = f"collecting at {e.url}  pid {e.pid}"
        line = f"{shown}  (processes whose asgi.py calls asgi_dashboard.attach report here)"
        return Description(line, entry("SERVER", "server", shown))
    pid = f"{e.pid} (worker {e.worker} of {e.workers})" if e.worker else str(e.pid)
    line = (
        f"server running at {e.url}  pid {pid}  {e.mode}  app {e.asgi_app} "
        f"({e.asgi_app_source})  Django {e.django}  Uvicorn {e.uvicorn}"
        f"  started in {e.startup_s:.2f} s"
    )
    line += f"  env {e.env_file}" if e.env_file else ""
    parts: list[Segment | str] = [f"running at {e.url}  pid {pid}  in {e.startup_s:.2f} s"]
    if e.env_file:
        parts.append(Segment(f"  env {e.env_file}", "muted"))
    return Description(line, entry("SERVER", "server", *parts))


@describes(ServerStopped, console=True)
def _stopped(e: ServerStopped) -> Description:
    how = f"exit code {e.exit_code}" if e.signal is None else f"signal {e.signal}"
    pid = f"{e.pid} (worker {e.worker})" if e.worker else str(e.pid)
    line = f"server pid {pid} stopped ({e.reason}, {how})"
    if e.reason == "crashed":
        line += f"; {crash_next_step(e)}"
    role: Role = "error" if e.reason != "requested" else "server"
    how = f"signal {e.signal}" if e.signal else f"exit code {e.exit_code}"
    parts: list[Segment | str] = [f"pid {pid} stopped ({e.reason}, {how})"]
    if e.reason == "crashed":
        parts.append(Segment(f"; {crash_next_step(e)}", role))
    return Description(line, entry("SERVER", role, *parts))


@describes(ServerFailed, console=True)
def _failed(e: ServerFailed) -> Description:
    parts = [Segment(e.message, "error")]
    if e.error is not None:
        parts.append(Segment("\n" + e.error.traceback.rstrip(), "muted"))
    line = f"error: {e.message}" + format_location(e.error)
    return Description(line, entry("FAILED", "error-strong", *parts))


@describes(CheckMessage, console=True)
def _check(e: CheckMessage) -> Description:
    line = f"check {e.level}: {e.check_id + ': ' if e.check_id else ''}{e.message}"
    line += f" (hint: {e.hint})" if e.hint else ""
    parts = [
        Segment(f"check {e.check_id}: " if e.check_id else "check: ", "muted"),
        Segment(e.message),
    ]
    if e.hint:
        parts.append(Segment(f"  hint: {e.hint}", "muted"))
    return Description(line, entry(e.level.upper(), level_role(e.level), *parts))


# -- console -----------------------------------------------------------------------------------


@describes(LogRecord, console=True)
def _log(e: LogRecord) -> Description:
    level = e.level.upper()
    if e.formatted is not None:
        # As the project's own handler formats it (structlog, JSON ...): every line kept; in the
        # console its ANSI colours too, the level staying a column.
        formatted = e.formatted.rstrip()
        return Description(
            f"{e.level:<8} {formatted}",
            entry(level, level_role(level), Segment(formatted, "ansi")),
        )
    line = f"{e.level:<8} {e.logger}: {e.message}"
    parts = [
        Segment(f"{e.logger}: ", "muted"),
        Segment(e.message, level_role(level) if level in ("ERROR", "CRITICAL") else "plain"),
    ]
    if e.exc_text:
        # The line names the exception (last line); the whole traceback is in --json output and
        # in the request event, not spread across the terminal. The console panel shows it all.
        line += f"  [{e.exc_text.strip().splitlines()[-1]}]"
        parts.append(Segment("\n" + e.exc_text.rstrip(), "muted"))
    return Description(line, entry(level, level_role(level), *parts))


@describes(ConsoleOutput, console=True)
def _output(e: ConsoleOutput) -> Description:
    role: Role = "error" if e.stream == "stderr" else "muted"
    return Description(f"{e.stream}: {e.text}", entry(e.stream, role, e.text.rstrip("\n")))


# -- reload ------------------------------------------------------------------------------------


@describes(ReloadWatching)
def _watching(e: ReloadWatching) -> Description:
    return Description(f"watching {', '.join(e.roots)} for {' '.join(e.includes)}")


@describes(FilesChanged, console=True)
def _changed(e: FilesChanged) -> Description:
    line = f"changed: {', '.join(e.paths)} -> {e.action}"
    line += f" ({e.reason})" if e.reason else ""
    shown = f"{', '.join(e.paths[:3])}{' …' if len(e.paths) > 3 else ''} → {e.action}"
    return Description(line, entry("RELOAD", "accent", shown))


@describes(ReloadFinished, console=True)
def _reloaded(e: ReloadFinished) -> Description:
    outcome = "ok" if e.ok else "FAILED"
    took = ms(e.duration_ns, unit=True)
    line = f"reload {outcome} via {e.path} in {took} (generation {e.generation})"
    line += f" ({e.reason})" if e.reason and e.path != "templates" else ""
    line += error_line(e.error)
    shown = f"{outcome} via {e.path} in {duration(e.duration_ns)} (generation {e.generation})"
    return Description(line, entry("RELOAD", "accent" if e.ok else "error-strong", shown))


@describes(ReloadLoopDetected, console=True)
def _reload_loop(e: ReloadLoopDetected) -> Description:
    line = (
        f"reload loop on {e.path} ({e.count} times): ignoring it from now on "
        f"(add --reload-exclude '{e.path.rsplit('/', 1)[-1]}' to make it permanent)"
    )
    shown = f"{e.path} changed {e.count} times in a row: ignoring it"
    return Description(line, entry("RELOAD", "warning", shown))
