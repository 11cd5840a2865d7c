"""A real headless Chromium (Debian's package, installed by ``.ci/run``) driven over the DevTools
protocol, for the ``--web`` test.

No test framework of its own: Chromium is started with ``--remote-debugging-port=0`` (it picks a
free loopback port and writes it to ``DevToolsActivePort`` in its profile folder), and the page is
driven with plain DevTools commands over a ``websockets`` connection. The flags are those that work
on these machines (no GPU, no background networking: the closed network refuses it). Every wait is
bounded; the browser is ended by the PID we started.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets

START_TIMEOUT_S = 20.0

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1400,900",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed: `apt-get install -y chromium` (.ci/run does it)")


class Page:
    """One page target: send DevTools commands, and see the events it reports."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if "id" in message:
                future = self._replies.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                for listener in self.listeners:
                    listener(message["method"], message.get("params", {}))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[call_id] = future
        await self.connection.send(json.dumps({"id": call_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 15.0)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def press(self, text: str) -> None:
        """Type ``text`` as key presses into the focused element."""
        for char in text:
            code = ord(char.upper())
            common = {"key": char, "text": char, "windowsVirtualKeyCode": code}
            await self.send("Input.dispatchKeyEvent", type="keyDown", **common)
            await self.send("Input.dispatchKeyEvent", type="keyUp", key=char)

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        self._reader.cancel()
        await self.connection.close()


def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited at start with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"chromium did not open its DevTools port in {START_TIMEOUT_S} s")
        time.sleep(0.05)  # polling a file Chromium has not written yet; bounded by the deadline


@asynccontextmanager
async def headless_page() -> AsyncIterator[Page]:
    """A blank page in a fresh headless Chromium, closed (and the browser ended) on exit."""
    with tempfile.TemporaryDirectory(prefix="asgi-dash-chromium-") as folder:
        profile = Path(folder)
        process = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        page: Page | None = None
        try:
            port = await asyncio.to_thread(_devtools_port, profile, process)
            async with httpx.AsyncClient(timeout=10) as client:
                targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            connection = await websockets.connect(url, max_size=None, open_timeout=10)
            page = Page(connection)
            yield page
        finally:
            if page is not None:
                await page.close()
            # The browser's own helper processes are in its session: end the group we started.
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
