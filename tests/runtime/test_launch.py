"""The first server generation is started by the CLI before the dashboard imports itself.

On Linux it is a fork of the CLI process (no second interpreter start-up); with
``ASGI_DASH_NO_FORK=1`` a fresh ``python -m asgi_dashboard.runtime.child``. Either way it must be
indistinguishable to the user: same events, its output captured, its environment the project's.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from asgi_dashboard.config import DashboardConfig, discover
from asgi_dashboard.runtime.launch import claim_prespawned, prespawn
from tests.runtime.conftest import launch, pid_alive
from tests.runtime.test_bad_input import project

PRINTING_ASGI = """
import os, sys
print("asgi.py says hello; MARKER =", os.environ.get("MARKER"), "cwd =", os.getcwd())
print("to stderr", file=sys.stderr)
from django.core.asgi import get_asgi_application
application = get_asgi_application()
"""


def ppid_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def cmdline_of(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [part.decode() for part in f.read().split(b"\0") if part]


@pytest.mark.parametrize("no_fork", ["", "1"], ids=["forked", "spawned"])
async def test_first_generation_serves_and_its_output_is_captured(
    tmp_path: Path, no_fork: str
) -> None:
    root = project(tmp_path / "p", asgi=PRINTING_ASGI)
    run = await launch(
        str(root),
        "--port",
        "0",
        "--no-reload",
        env={"MARKER": "m-42", "ASGI_DASH_NO_FORK": no_fork, "PYTHONUNBUFFERED": ""},
    )
    try:
        started = await run.wait_event("server-started", timeout=30)
        pid = started["pid"]
        assert ppid_of(pid) == run.process.pid  # our own child either way
        server_cmd = cmdline_of(pid)
        if no_fork:
            assert "asgi_dashboard.runtime.child" in server_cmd
        else:
            assert server_cmd == cmdline_of(run.process.pid)  # a fork of the CLI
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(started["url"] + "/")
        assert response.status_code == 200  # DEBUG with no URL patterns: Django's welcome page
        request = await run.wait_event("request", path="/")
        assert request["status"] == 200
        stdout_lines = [
            e for e in run.events if e["event"] == "console" and e["stream"] == "stdout"
        ]
        # The project saw its own folder as cwd and the CLI's environment.
        assert any(
            "MARKER = m-42" in e["text"] and f"cwd = {root}" in e["text"] for e in stdout_lines
        ), run.events
        assert any(
            e["event"] == "console" and e["stream"] == "stderr" and e["text"] == "to stderr"
            for e in run.events
        )
    finally:
        assert await run.stop() == 0
    assert not pid_alive(pid)


def _config(tmp_path: Path) -> DashboardConfig:
    root = project(tmp_path / "p")
    project_dir, settings, source, _ = discover(str(root))
    return DashboardConfig(
        project_dir=project_dir, settings_module=settings, settings_source=source, port=0
    )


def test_a_prespawned_server_for_another_config_is_ended_and_its_port_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASGI_DASH_NO_FORK", "1")  # never fork the test runner itself
    config = _config(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    prespawn(config.with_port(port))
    assert claim_prespawned(config) is None  # a different port: not ours to adopt
    # Its process was ended by PID (and reaped), and the port is free again.
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))
    assert claim_prespawned(config.with_port(port)) is None  # claimed (discarded) once only


def test_prespawn_reports_a_port_in_use_to_the_runtime(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = config.with_port(busy.getsockname()[1])
        prespawn(config)
        early = claim_prespawned(config)
    assert early is not None and early.process is None and early.sock is None
    assert early.bind_error is not None and "--port" in early.bind_error
