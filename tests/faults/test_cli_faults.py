"""The command line's own faults (issue 12, items 5-11): closed pipes, busy ports, exit codes,
messages said once, secrets in ``--json``, syntax errors located, an idle server kept quiet.

Real processes on 127.0.0.1 (``python -m asgi_dashboard``), every wait bounded, only processes
these tests start are ended (by PID). The TUI is driven with ``run_test()`` and, for its exit
code through the real CLI, in a pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from asgi_dashboard.app import make_app
from asgi_dashboard.config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED, DashboardConfig
from asgi_dashboard.events import (
    ExceptionInfo,
    FailurePhase,
    FrameInfo,
    RequestFinished,
    ServerFailed,
    WsOpened,
    from_dict,
)
from asgi_dashboard.headless import EXIT_STDOUT_CLOSED
from asgi_dashboard.instrument.errors import exception_info
from asgi_dashboard.instrument.watchdog import lag_is_news
from asgi_dashboard.redact import REDACTED, redact_event
from asgi_dashboard.runtime.errorpage import render_error_page
from tests.conftest import DEMO_DIR, REPO
from tests.faults.conftest import descendants, wait_gone
from tests.runtime.conftest import _clean_environ, launch
from tests.runtime.test_bad_input import project
from tests.ui.conftest import plain, wait_for
from tests.ui.scripted import make_config, scripted_factory

DEADLINE = 60.0  # generous: the machine is shared; a healthy run takes a second or two
MS = 1_000_000


# -- helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def busy_port() -> Iterator[socket.socket]:
    """A port on 127.0.0.1 this test process listens on (so the owner is us, and visible)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock
    finally:
        sock.close()


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "asgi_dashboard", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=_clean_environ(),
    )


def read_line(pipe: int, buffer: bytearray, deadline: float) -> bytes:
    """One line from a raw pipe fd, bounded by ``deadline`` (monotonic)."""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no line before the deadline; have {bytes(buffer)[-300:]!r}")
        ready, _, _ = select.select([pipe], [], [], left)
        if ready:
            chunk = os.read(pipe, 65536)
            if not chunk:
                raise EOFError(bytes(buffer).decode(errors="replace"))
            buffer.extend(chunk)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


def wait_exit(process: subprocess.Popen[bytes], timeout: float = DEADLINE) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()  # ours, by its PID (Popen)
        process.wait()
        raise


def minimal_project(root: Path, views: str = "def index(request):\n    pass\n") -> Path:
    """tests/runtime/test_bad_input.project() plus a views module the URLconf imports."""
    project(root)
    (root / "proj" / "views.py").write_text(views)
    (root / "proj" / "urls.py").write_text("from proj import views  # noqa\n\nurlpatterns = []\n")
    return root


# -- item 5: a closed stdout ends the run -------------------------------------------------------


@pytest.mark.slow
def test_headless_json_stops_when_stdout_is_closed(tmp_path: Path) -> None:
    """``asgi-dash --headless --json | head``: the reader leaves while the server is idle."""
    process = popen(str(DEMO_DIR), "--headless", "--json", "--port", "0", "--no-reload")
    assert process.stdout is not None and process.stderr is not None
    buffer = bytearray()
    deadline = time.monotonic() + DEADLINE
    while True:
        event = json.loads(read_line(process.stdout.fileno(), buffer, deadline))
        if event["event"] == "server-started":
            break
    port, server_pid = event["port"], event["pid"]
    family = descendants(process.pid)
    assert any(p.pid == server_pid for p in family)
    closed_at = time.monotonic()
    process.stdout.close()  # as `head` does once it has its lines
    code = wait_exit(process)
    took = time.monotonic() - closed_at
    stderr = process.stderr.read().decode(errors="replace")
    assert code == EXIT_STDOUT_CLOSED, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    # Noticed at once (epoll), not at the next write: an idle server has nothing to write.
    assert took < 15, took
    assert bindable(port)
    assert not asyncio.run(wait_gone(family, 10)), "a server process outlived the dashboard"


@pytest.mark.slow
def test_headless_pipe_to_head_in_a_shell(tmp_path: Path) -> None:
    """The command a user types, exit statuses as the shell sees them (pipefail)."""
    command = (
        f"set -o pipefail; {sys.executable} -m asgi_dashboard {DEMO_DIR} --headless --json "
        "--port 0 --no-reload 2>err.txt | head -n 2 >/dev/null; echo $?"
    )
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        capture_output=True,
        env=_clean_environ(),
        timeout=DEADLINE,
    )
    assert result.stdout.decode().strip() == str(EXIT_STDOUT_CLOSED)
    stderr = (tmp_path / "err.txt").read_text()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.slow
async def test_probe_with_a_closed_stdout(tmp_path: Path) -> None:
    run = await launch(
        str(DEMO_DIR),
        "--port",
        "0",
        "--no-reload",
        env={"ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")},
    )
    try:
        url = (await run.wait_event("server-started", timeout=DEADLINE))["url"]
        probe = popen("probe", f"{url}/async/?ms=1", "-n", "5", "-c", "1")
        assert probe.stdout is not None and probe.stderr is not None
        probe.stdout.close()  # the reader is gone before the probe prints
        code = await asyncio.to_thread(wait_exit, probe)
        stderr = probe.stderr.read().decode(errors="replace")
        assert code == EXIT_STDOUT_CLOSED, stderr
        assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    finally:
        assert await run.stop() == 0


# -- item 5: idle loop lag ------------------------------------------------------------------------


def test_loop_lag_is_news_only_when_it_moves() -> None:
    threshold = 100 * MS
    assert lag_is_news(None, 0, 0, threshold)  # the first sample
    assert not lag_is_news((200_000, 1 * MS), 900_000, 1 * MS, threshold)  # idle jitter
    assert not lag_is_news((10 * MS, 20 * MS), 13 * MS, 20 * MS, threshold)  # < 50 %
    assert lag_is_news((10 * MS, 20 * MS), 16 * MS, 20 * MS, threshold)  # +60 %, +6 ms
    assert lag_is_news((1 * MS, 1 * MS), 1 * MS, 250 * MS, threshold)  # a new worst
    assert lag_is_news((90 * MS, 90 * MS), 101 * MS, 101 * MS, threshold)  # crossed up
    assert lag_is_news((101 * MS, 150 * MS), 99 * MS, 150 * MS, threshold)  # and down


@pytest.mark.slow
async def test_idle_server_does_not_report_loop_lag_every_second(tmp_path: Path) -> None:
    run = await launch(str(minimal_project(tmp_path)), "--port", "0", "--no-reload")
    try:
        await run.wait_event("server-started", timeout=DEADLINE)
        # Start-up (the checks, then the audit) makes real lag, which is reported as it settles.
        await run.wait_event("middleware-audit", timeout=DEADLINE)
        await asyncio.sleep(1)
        # Then a measurement window, not a synchronisation: 4 s of an idle server. Before the
        # fix it wrote a loop-lag event every second (4 here).
        window_start = time.time()
        await asyncio.sleep(4)
    finally:
        assert await run.stop() == 0
    events = await run.drain()
    lag = [e for e in events if e["event"] == "loop-lag"]
    assert lag, "the first sample is reported"
    assert len([e for e in lag if e["ts"] >= window_start]) <= 1, lag


# -- items 6, 10: a busy port -------------------------------------------------------------------


async def test_busy_port_headless_said_once_on_stderr_with_its_owner(tmp_path: Path) -> None:
    with busy_port() as held:
        port = held.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "asgi_dashboard",
            str(minimal_project(tmp_path)),
            "--headless",
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            env=_clean_environ(),
        )
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == EXIT_BAD_INPUT, stderr
    said = [line for line in stderr.splitlines() if "in use" in line]
    assert len(said) == 1, stderr
    assert said[0].startswith(f"asgi-dash: Port {port} on 127.0.0.1 is in use by ")
    assert f"pid {os.getpid()}" in said[0]  # this test process holds it, and may be seen
    assert "in use" not in stdout, stdout


def project_config(root: Path, port: int) -> DashboardConfig:
    """The minimal project on ``port``, reload off (the TUI busy-port tests)."""
    return DashboardConfig(
        project_dir=root,
        settings_module="proj.settings",
        settings_source="manage.py",
        port=port,
        reload=False,
    )


@pytest.mark.slow
async def test_busy_port_in_the_tui_offers_retry_and_a_free_port(tmp_path: Path) -> None:
    root = minimal_project(tmp_path)
    with busy_port() as held:
        port = held.getsockname()[1]
        app = make_app(project_config(root, port))
        async with app.run_test(size=(120, 30)) as pilot:
            panel = app.main_screen.error_panel
            await wait_for(pilot, lambda: panel.display, DEADLINE, "the error panel")
            assert panel.border_title == "Port busy"
            message = plain(panel.query_one("#failure-message"))
            assert f"Port {port} on 127.0.0.1 is in use by" in message
            assert f"pid {os.getpid()}" in message
            keys = plain(panel.query_one("#failure-where"))
            assert "retry" in keys and "free port" in keys
            assert "Fix the code" not in keys
            assert not panel.query_one("#failure-scroll").display  # no empty traceback box
            assert app.check_action("start_on_free_port", ())

            # `r` while the port is still taken: a second attempt, the same answer.
            before = app.events_ingested
            await pilot.press("r")
            await wait_for(
                pilot, lambda: app.events_ingested > before, DEADLINE, "the retry to fail"
            )
            await pilot.pause()
            assert app.runtime.state == "failed" and panel.display
            held.close()  # the other program goes away
            await pilot.press("r")
            await wait_for(
                pilot,
                # The model changes first, the screen shows it a message later.
                lambda: app.model.status.state == "running" and not panel.display,
                DEADLINE,
                "the retried start",
            )
            assert app.model.status.url == f"http://127.0.0.1:{port}"
            assert not app.check_action("start_on_free_port", ())
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, DEADLINE, "the exit")
    assert app.return_code == 0
    assert bindable(port)


@pytest.mark.slow
async def test_free_port_key_starts_elsewhere(tmp_path: Path) -> None:
    root = minimal_project(tmp_path)
    with busy_port() as held:
        port = held.getsockname()[1]
        app = make_app(project_config(root, port))
        async with app.run_test(size=(120, 30)) as pilot:
            panel = app.main_screen.error_panel
            await wait_for(pilot, lambda: panel.display, DEADLINE, "the error panel")
            await pilot.press("n")
            await wait_for(
                pilot, lambda: app.model.status.state == "running", DEADLINE, "a free port"
            )
            url = app.model.status.url
            assert url is not None and not url.endswith(f":{port}")
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, DEADLINE, "the exit")
    # Quitting after a successful start on another port is a clean exit.
    assert app.return_code == 0


# -- item 7: TUI exit codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "code"), [("bind", EXIT_BAD_INPUT), ("settings", EXIT_PROJECT_FAILED)]
)
async def test_tui_exit_code_after_a_failed_start(phase: FailurePhase, code: int) -> None:
    failure = ServerFailed(message="it failed", phase=phase, generation=1)
    app = make_app(make_config(), runtime_factory=scripted_factory([failure]))
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.main_screen.error_panel.display, 10, "the panel")
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, 10, "the exit")
    assert app.return_code == code


async def test_tui_exit_code_when_the_runtime_does_not_stop() -> None:
    from tests.ui.scripted import ScriptedRuntime

    class Stuck(ScriptedRuntime):
        async def stop(self) -> None:
            await asyncio.Event().wait()  # never returns: the app's bounded wait must end it

    app = make_app(
        make_config(graceful_timeout=0.0), runtime_factory=lambda c, cb: Stuck(c, cb, [])
    )
    import asgi_dashboard.app as app_module

    margin, app_module.STOP_MARGIN = app_module.STOP_MARGIN, 0.2
    try:
        async with app.run_test() as pilot:
            await pilot.press("q")
            await wait_for(pilot, lambda: app.return_code is not None, 10, "the exit")
    finally:
        app_module.STOP_MARGIN = margin
    assert app.return_code == 1


@pytest.mark.slow
def test_tui_process_exit_code_on_a_busy_port(tmp_path: Path) -> None:
    """Through the real CLI in a pseudo-terminal: the panel shows, `q` exits 2 (was 0)."""
    root = minimal_project(tmp_path)
    with busy_port() as held:
        port = held.getsockname()[1]
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "asgi_dashboard", str(root), "--port", str(port)],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**_clean_environ(), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"},
            start_new_session=True,
        )
        os.close(follower)
        seen = bytearray()
        deadline = time.monotonic() + DEADLINE
        try:
            while b"Port busy" not in seen:
                left = deadline - time.monotonic()
                assert left > 0, bytes(seen)[-500:]
                ready, _, _ = select.select([leader], [], [], left)
                if ready:
                    try:
                        seen.extend(os.read(leader, 65536))
                    except OSError:
                        break
            os.write(leader, b"q")
            while process.poll() is None and time.monotonic() < deadline:
                ready, _, _ = select.select([leader], [], [], 0.2)
                if ready:
                    with contextlib.suppress(OSError):
                        os.read(leader, 65536)
            code = wait_exit(process, 10)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)  # ours, by its PID
                process.wait()
            os.close(leader)
    assert code == EXIT_BAD_INPUT, bytes(seen)[-500:]


# -- item 8: warnings that must outlive the TUI's first frame ------------------------------------


async def test_non_loopback_host_is_in_the_status_bar() -> None:
    app = make_app(make_config(host="0.0.0.0"), runtime_factory=scripted_factory([]))
    async with app.run_test(size=(200, 30)) as pilot:
        await pilot.pause()
        text = app.main_screen.status_bar.render_status().plain
    assert "0.0.0.0 exposes this development server to your network" in text


def test_default_port_falls_back_when_8000_is_busy() -> None:
    from asgi_dashboard.cli import DEFAULT_PORT, pick_default_port

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", DEFAULT_PORT))
        holder.listen()
    except OSError:
        pass  # already busy on this machine: the same situation
    try:
        port, notice = pick_default_port("127.0.0.1")
    finally:
        holder.close()
    assert port != DEFAULT_PORT
    assert notice is not None and notice.startswith(f"port {DEFAULT_PORT} is in use")


# -- items 9, 10: syntax errors located, said once -------------------------------------------------


def test_syntax_error_frame_is_the_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "views_broken.py"
    broken.write_text("if True:\n    y = foo(1 2)\n")
    try:
        compile(broken.read_text(), str(broken), "exec")
    except SyntaxError as exc:
        info = exception_info(exc)
    frame = info.frame
    assert frame is not None and frame.filename == str(broken) and frame.lineno == 2
    # Where Python's own traceback puts its caret (under the "1"), in the stripped line.
    assert frame.line == "y = foo(1 2)" and frame.offset == 9
    page = render_error_page("broken", info, show_traceback=False)
    assert "y = foo(1 2)\n" + " " * 8 + "^</pre>" in page


@pytest.mark.slow
async def test_settings_syntax_error_said_once(tmp_path: Path) -> None:
    root = project(tmp_path, extra='ROOT_URLCONF = "proj.urls"\nx = (\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "asgi_dashboard",
        str(root),
        "--headless",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        env=_clean_environ(),
    )
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == EXIT_PROJECT_FAILED, stderr
    said = [line for line in stderr.splitlines() if line.startswith("asgi-dash:")]
    assert len(said) == 1 and said[0].count("(settings.py, line") == 1, stderr
    assert f'File "{root / "proj" / "settings.py"}", line' in stderr  # and the caret below it
    assert stderr.rstrip().endswith("^"), stderr
    assert "error:" not in stdout and "raised" not in stdout, stdout
    assert "Started server process" not in stdout + stderr


@pytest.mark.slow
async def test_syntax_error_after_an_edit_named_in_event_page_and_log(tmp_path: Path) -> None:
    root = minimal_project(tmp_path)
    run = await launch(str(root), "--port", "0")
    try:
        url = (await run.wait_event("server-started", timeout=DEADLINE))["url"]
        (root / "proj" / "views.py").write_text("def index(request):\n    return (1,\n\n")
        failed = await run.wait_event("server-failed", timeout=DEADLINE)
        frame = failed["error"]["frame"]
        assert frame["filename"] == str(root / "proj" / "views.py"), failed
        assert frame["line"] == "return (1," and frame["offset"] is not None
        assert "urls.py" not in frame["filename"]
        async with httpx.AsyncClient(timeout=10) as client:
            page = await client.get(f"{url}/some/page/")
        assert page.status_code == 500
        assert f"{root / 'proj' / 'views.py'}, line 2" in page.text
        assert "return (1,\n" in page.text and "^</pre>" in page.text
        # The request the error page answered is logged like any other.
        logged = await run.wait_event("request", timeout=DEADLINE, path="/some/page/")
        assert logged["status"] == 500
    finally:
        assert await run.stop() == 0


async def test_error_panel_shows_the_caret() -> None:
    frame = FrameInfo("/p/views.py", 2, "<module>", "return (1,", offset=8)
    info = ExceptionInfo("SyntaxError", "'(' was never closed", "tb", frame=frame)
    failure = ServerFailed(message="Importing the URLconf raised ...", phase="import", error=info)

    app = make_app(make_config(), runtime_factory=scripted_factory([failure]))
    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.main_screen.error_panel
        await wait_for(pilot, lambda: panel.display, 10, "the panel")
        text = plain(panel.query_one("#failure-where"))
    assert "/p/views.py, line 2\n    return (1,\n           ^" in text


# -- item 11: secrets ----------------------------------------------------------------------------


def test_redaction_covers_every_event_with_headers() -> None:
    request = RequestFinished(
        id="1-1",
        method="GET",
        path="/",
        status=200,
        request_headers=(("Cookie", "sessionid=s3cret"), ("Accept", "*/*")),
        response_headers=(("Set-Cookie", "csrftoken=t0ken; Path=/"),),
    )
    redacted = redact_event(request)
    assert redacted.request_headers == (("Cookie", REDACTED), ("Accept", "*/*"))
    assert redacted.response_headers == (("Set-Cookie", REDACTED),)
    ws = WsOpened(id="w1", path="/ws/", request_headers=(("authorization", "Bearer x"),))
    assert redact_event(ws).request_headers == (("authorization", REDACTED),)
    plain_request = RequestFinished(id="1-2", method="GET", path="/", status=200)
    assert redact_event(plain_request) is plain_request


@pytest.mark.slow
async def test_json_redacts_secrets_and_replay_says_it_needs_them(tmp_path: Path) -> None:
    root = minimal_project(tmp_path / "p")
    secret = {"Cookie": "sessionid=s3cret-value", "Authorization": "Bearer t0ken-value"}
    for keep in (False, True):
        run = await launch(str(root), "--port", "0", "--no-reload", *(["--keep-secrets"] * keep))
        try:
            url = (await run.wait_event("server-started", timeout=DEADLINE))["url"]
            async with httpx.AsyncClient(timeout=10) as client:
                await client.get(f"{url}/private/", headers=secret)
            event = await run.wait_event("request", timeout=DEADLINE, path="/private/")
            headers = {k.lower(): v for k, v in event["request_headers"]}
            if keep:
                assert headers["cookie"] == secret["Cookie"]
                assert headers["authorization"] == secret["Authorization"]
                continue
            assert headers["cookie"] == REDACTED and headers["authorization"] == REDACTED
            assert "s3cret" not in json.dumps(run.events) and "t0ken" not in json.dumps(run.events)
            capture = tmp_path / "events.jsonl"
            capture.write_text("".join(json.dumps(e) + "\n" for e in run.events))
            replay = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "asgi_dashboard",
                "replay",
                "--events",
                str(capture),
                "--last",
                "/private/",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=_clean_environ(),
                cwd=REPO,
            )
            _, err = await asyncio.wait_for(replay.communicate(), DEADLINE)
            said = err.decode()
            assert "--keep-secrets" in said and "redacted" in said, said
            again = await run.wait_event("request", timeout=DEADLINE, path="/private/")
            sent = {k.lower() for k, _ in again["request_headers"]}
            assert not sent & {"cookie", "authorization"}  # "[redacted]" was never sent
        finally:
            assert await run.stop() == 0


def test_decoded_redacted_event_round_trips() -> None:
    request = RequestFinished(
        id="1-1", method="GET", path="/", status=200, request_headers=(("Cookie", "a=b"),)
    )
    from asgi_dashboard.events import encode

    decoded = from_dict(json.loads(encode(redact_event(request))))
    assert isinstance(decoded, RequestFinished)
    assert decoded.request_headers == (("Cookie", REDACTED),)
