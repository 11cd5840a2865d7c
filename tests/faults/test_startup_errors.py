"""Start-up errors: one short clear line on stderr and the exit code the README documents.

``tests/runtime/test_bad_input.py`` covers ``--headless --json`` for a missing path, a folder that
is not a project, settings not importable or raising, an ASGI module raising and a busy port.
This adds ``--app`` naming what does not exist, and the same errors from the plain command line:
``asgi-dash PATH`` with stdout not a terminal (it then runs headless with readable lines), and,
for the errors found before the TUI starts, with stdout a terminal (a pseudo-terminal here).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from asgi_dashboard.config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED
from tests.runtime.conftest import _clean_environ
from tests.runtime.test_bad_input import one_clear_line, project, run_to_exit

EXIT_TIMEOUT = 60.0  # generous: Django starts in ~1 s, but the machine is shared


# -- --app naming something that does not exist (headless --json) -------------------------------


@pytest.mark.parametrize(
    ("app", "expected", "error_type"),
    [
        ("proj.asgi:nope", "'proj.asgi' has no attribute 'nope' (--app)", "AttributeError"),
        ("proj.nomodule:application", "'proj.nomodule' (--app)", "ModuleNotFoundError"),
    ],
    ids=["missing-attribute", "missing-module"],
)
async def test_app_naming_what_does_not_exist(
    tmp_path: Path, app: str, expected: str, error_type: str
) -> None:
    root = project(tmp_path, asgi="application = None\n")
    code, out, err = await run_to_exit(str(root), "--app", app)
    assert code == EXIT_PROJECT_FAILED, err
    assert expected in one_clear_line(err)
    failed = [e for e in map(json.loads, out.splitlines()) if e["event"] == "server-failed"]
    assert len(failed) == 1, out
    assert failed[0]["phase"] == "import" and failed[0]["error"]["type"] == error_type
    assert not any(e["event"] == "server-started" for e in map(json.loads, out.splitlines()))


# -- the plain command line -----------------------------------------------------------------------


def _missing(tmp: Path) -> list[str]:
    return [str(tmp / "nope")]


def _not_a_project(tmp: Path) -> list[str]:
    return [str(tmp)]


def _settings_missing(tmp: Path) -> list[str]:
    return [str(project(tmp)), "--settings", "nope.settings"]


def _settings_raising(tmp: Path) -> list[str]:
    return [str(project(tmp, extra="import does_not_exist_xyz"))]


def _asgi_raising(tmp: Path) -> list[str]:
    return [str(project(tmp, asgi="1 / 0\n"))]


def _app_missing_attribute(tmp: Path) -> list[str]:
    return [str(project(tmp, asgi="application = None\n")), "--app", "proj.asgi:nope"]


def _bad_port(tmp: Path) -> list[str]:
    return [str(project(tmp)), "--port", "70000"]


PLAIN_CASES: list[tuple[str, Callable[[Path], list[str]], int, str]] = [
    ("missing-path", _missing, EXIT_BAD_INPUT, "does not exist"),
    ("not-a-project", _not_a_project, EXIT_BAD_INPUT, "not a Django project"),
    ("bad-port", _bad_port, EXIT_BAD_INPUT, "--port 70000 is not a port"),
    ("settings-not-importable", _settings_missing, EXIT_PROJECT_FAILED, "'nope.settings'"),
    ("settings-raising", _settings_raising, EXIT_PROJECT_FAILED, "does_not_exist_xyz"),
    ("asgi-raising", _asgi_raising, EXIT_PROJECT_FAILED, "ZeroDivisionError"),
    ("app-missing-attribute", _app_missing_attribute, EXIT_PROJECT_FAILED, "no attribute 'nope'"),
]


async def _run_plain(args: list[str]) -> tuple[int, str, str]:
    """``python -m asgi_dashboard ARGS`` with no --headless/--json, stdout a pipe."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asgi_dashboard",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=_clean_environ(),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()  # the process this test started, by its handle
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest.mark.parametrize(
    ("make_args", "code", "expected"),
    [case[1:] for case in PLAIN_CASES],
    ids=[case[0] for case in PLAIN_CASES],
)
async def test_plain_cli_with_stdout_not_a_terminal(
    tmp_path: Path, make_args: Callable[[Path], list[str]], code: int, expected: str
) -> None:
    exit_code, out, err = await _run_plain(["--port", "0", *make_args(tmp_path)])
    assert exit_code == code, (out, err)
    assert expected in one_clear_line(err)
    assert "Traceback" not in out, out  # readable lines, not a traceback dump


async def test_plain_cli_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        exit_code, out, err = await _run_plain([str(project(tmp_path)), "--port", str(port)])
    assert exit_code == EXIT_BAD_INPUT, (out, err)
    line = one_clear_line(err)
    assert f"Port {port}" in line and "--port" in line
    assert "Traceback" not in out


TUI_CASES = [case for case in PLAIN_CASES if case[2] == EXIT_BAD_INPUT]


@pytest.mark.parametrize(
    ("make_args", "code", "expected"),
    [case[1:] for case in TUI_CASES],
    ids=[case[0] for case in TUI_CASES],
)
async def test_plain_cli_on_a_terminal_exits_before_the_tui(
    tmp_path: Path, make_args: Callable[[Path], list[str]], code: int, expected: str
) -> None:
    """The errors found while parsing arguments: no TUI, the line stays readable after exit."""
    master, slave = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "asgi_dashboard",
            *make_args(tmp_path),
            stdin=slave,
            stdout=slave,
            stderr=asyncio.subprocess.PIPE,
            env={**_clean_environ(), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
        finally:
            if process.returncode is None:  # the TUI started after all: end it, by PID
                os.kill(process.pid, signal.SIGKILL)
                await process.wait()
        os.close(slave)
        slave = -1
        os.set_blocking(master, False)
        screen = b""
        # EIO once the terminal has no writer left; BlockingIOError if one (wrongly) remains.
        with contextlib.suppress(OSError):
            while chunk := os.read(master, 65536):
                screen += chunk
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)
    assert process.returncode == code, err
    assert expected in one_clear_line(err.decode(errors="replace"))
    # Nothing was drawn: the TUI (which switches to the alternate screen, writing to stderr as
    # Textual does) never started.
    assert b"\x1b[?1049h" not in err + screen, (err + screen)[:200]
