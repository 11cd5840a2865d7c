"""``asgi-dash --web`` in a real headless Chromium (Debian's package).

The dashboard is served by the real textual-serve server on 127.0.0.1; Chromium loads the page
with its token, the page's own JavaScript opens the WebSocket that starts the dashboard on the demo,
and the test reads what the browser received on that WebSocket (the DevTools protocol reports every
frame) into a terminal screen (pyte), the same bytes xterm.js draws. Real requests to the demo
server must appear as rows; a key press sent to the page (DevTools ``Input.dispatchKeyEvent``)
must switch the tab. A screenshot of the page is kept in the test's tmp folder.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyte
import pytest

from tests.support.browser import Page, headless_page

pytestmark = pytest.mark.slow

URL_RE = re.compile(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+")


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[str]:
    """``asgi-dash --web`` on the demo (run from an empty folder), yielding the URL it printed."""
    env = {**os.environ, "ASGI_DASH_DEMO_DB": str(tmp_path / "demo.sqlite3")}
    process = subprocess.Popen(
        [sys.executable, "-m", "asgi_dashboard", "--web", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()  # printed at once, before serving; EOF if it failed
        match = URL_RE.search(first)
        assert match, f"no URL in {first!r}"
        yield match.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()


class Terminal:
    """What the page's WebSocket delivered, replayed into a screen of the size the page asked."""

    def __init__(self) -> None:
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        self.changed = asyncio.Event()

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.webSocketCreated" and "/ws" in params["url"]:
            size = dict(re.findall(r"(width|height)=(\d+)", params["url"]))
            self.screen = pyte.Screen(int(size.get("width", 80)), int(size.get("height", 24)))
            self.stream = pyte.ByteStream(self.screen)
        elif method == "Network.webSocketFrameReceived" and self.stream is not None:
            response = params["response"]
            if response["opcode"] == 2:  # binary: terminal bytes (text frames are meta)
                self.stream.feed(base64.b64decode(response["payloadData"]))
                self.changed.set()

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen is not None else ""

    async def wait_for(self, test: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while not test(self.text()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the page never showed {what}:\n{self.text()}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return self.text()


async def _open(page: Page, url: str, terminal: Terminal) -> None:
    page.listeners.append(terminal.on_event)
    await page.send("Network.enable")
    await page.send("Page.enable")
    await page.send("Page.navigate", url=url)


async def test_dashboard_in_a_browser_shows_requests_and_switches_tabs(
    web_server: str, tmp_path: Path
) -> None:
    terminal = Terminal()
    async with headless_page() as page:
        await _open(page, web_server, terminal)
        screen = await terminal.wait_for(
            lambda text: re.search(r"127\.0\.0\.1:\d+", text) is not None and "running" in text,
            "the demo serving",
        )
        port = re.search(r"127\.0\.0\.1:(\d+)", screen)
        assert port is not None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port.group(1)}") as client:
            for path in ("/sync/?ms=0", "/async/?ms=0", "/no-such-page/"):
                await client.get(path, timeout=10)
        screen = await terminal.wait_for(
            lambda text: "/sync/" in text and "/async/" in text and "/no-such-page/" in text,
            "the three requests in the log",
        )
        assert "404" in screen
        await page.screenshot(tmp_path / "requests.png")
        # Focus the terminal's input (xterm's hidden textarea), then press "2": the Views tab.
        await page.send(
            "Runtime.evaluate",
            expression="document.querySelector('.xterm-helper-textarea').focus()",
        )
        await page.press("2")
        screen = await terminal.wait_for(
            lambda text: "p95" in text and re.search(r"\basync\b", text) is not None,
            "the Views tab with the async view's row",
        )
        assert "/no-such-page/" not in screen  # the request log is no longer shown
        await page.screenshot(tmp_path / "views.png")
    assert (tmp_path / "views.png").stat().st_size > 10_000
    # Closing the tab stopped that dashboard, and with it the demo server it ran.
    await _until_refused(int(port.group(1)))


async def _until_refused(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        writer.close()
        await asyncio.sleep(0.1)  # polling a port that is still open; bounded by the deadline
    raise AssertionError(f"port {port} still answers {timeout} s after the tab closed")


async def test_the_page_needs_its_token(web_server: str) -> None:
    base = web_server.split("?")[0]
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(base)).status_code == 403
        assert (await client.get(base + "?token=wrong")).status_code == 403
        # The WebSocket that would start a dashboard: refused without the page's cookie.
        ws = await client.get(
            base + "ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
        )
        assert ws.status_code == 403
        page = await client.get(web_server)
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        # With the cookie but from another site's page: refused too.
        other = await client.get(
            base + "ws",
            headers={"Origin": "http://evil.example", "Upgrade": "websocket"},
        )
        assert other.status_code == 403
