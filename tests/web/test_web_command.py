"""``--web``: the command each browser connection runs, and bad input."""

from __future__ import annotations

import shlex
import subprocess
import sys

from asgi_dashboard.web import dashboard_command, under_web_driver


def test_the_dashboard_command_drops_the_web_options_and_keeps_the_rest() -> None:
    command = shlex.split(
        dashboard_command(["--web", "proj dir", "--web-port", "9000", "--port=0", "--web-port=1"])
    )
    assert command == [sys.executable, "-m", "asgi_dashboard", "proj dir", "--port=0"]


def test_web_driver_is_recognised(monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert under_web_driver()
    monkeypatch.setenv("TEXTUAL_DRIVER", "")
    assert not under_web_driver()


def test_web_with_headless_is_refused_with_a_short_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "asgi_dashboard", "--web", "--headless"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "drop --headless" in done.stderr and "Traceback" not in done.stderr
