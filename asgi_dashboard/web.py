"""``asgi-dash --web``: the same Textual dashboard in a browser tab, through textual-serve.

textual-serve runs a small aiohttp server: its page loads xterm.js, opens a WebSocket, and for each
connection starts the command (here ``python -m asgi_dashboard`` with the user's other arguments)
under Textual's web driver, relaying the terminal both ways. What this module adds to it:

* **Loopback only, with a token.** The server listens on 127.0.0.1 (a socket we bind, port
  ``--web-port`` or any free one) and answers the page only at ``/?token=<token>``: 32 random
  bytes from :mod:`secrets`, new every run, printed once. The page sets an ``HttpOnly``,
  ``SameSite=Strict`` cookie holding the token; the WebSocket that starts the dashboard and the
  download route need that cookie, and the WebSocket's ``Origin`` must be this server (no other
  site can open it). Without the token: 403, and nothing is started.
* **One dashboard at a time.** Each dashboard runs the project's server; a second tab (or a reload
  of the tab) first stops the dashboard of the previous connection, so two never fight over the
  project's port.

The dashboard process knows it runs under the web driver (``TEXTUAL_DRIVER``), and stays a TUI
although its stdout is not a terminal (see :func:`under_web_driver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence

# textual-serve is the `web` extra: the CLI imports this module only for --web, and says what to
# install when the import fails.
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

#: The cookie the page sets, carrying the token to the WebSocket and download requests.
COOKIE = "asgi_dash_web"
#: How long a replaced connection's dashboard gets to stop before the new one starts.
REPLACE_TIMEOUT_S = 15.0


def under_web_driver() -> bool:
    """True in a dashboard process that textual-serve started (its stdout is the web relay)."""
    return os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver")


def dashboard_command(argv: Sequence[str]) -> str:
    """The shell command textual-serve runs per connection: this interpreter, the same arguments
    without the ``--web`` options (so the dashboard it starts is the TUI, not another server)."""
    rest: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--web":
            continue
        if arg == "--web-port":
            skip = True
            continue
        if arg.startswith("--web-port="):
            continue
        rest.append(arg)
    return shlex.join([sys.executable, "-m", "asgi_dashboard", *rest])


def bind_loopback(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0: any free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    sock.listen(16)
    sock.setblocking(False)
    return sock


def _token_ok(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _closer(websocket: web.WebSocketResponse) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await websocket.close()

    return close


class GuardedServer(Server):
    """textual-serve's server for ``command``, answering only to the holder of ``token``, and
    running one dashboard at a time."""

    def __init__(self, command: str, port: int, token: str) -> None:
        super().__init__(command, host="127.0.0.1", port=port, title="asgi-dash")
        self.token = token
        self.origin = f"http://127.0.0.1:{port}"
        self._session: web.WebSocketResponse | None = None
        self._session_done = asyncio.Event()
        self._session_done.set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)  # textual-serve's own JS, CSS and fonts
        if request.path == "/":
            if not _token_ok(request.query.get("token"), self.token):
                raise web.HTTPForbidden(text="asgi-dash: open the URL with its token\n")
            response = await handler(request)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
        if not _token_ok(request.cookies.get(COOKIE), self.token):
            raise web.HTTPForbidden(text="asgi-dash: no token\n")
        origin = request.headers.get("Origin")
        if request.path == "/ws" and origin is not None and origin != self.origin:
            raise web.HTTPForbidden(text="asgi-dash: wrong origin\n")
        return await handler(request)

    async def _replace_session(self) -> asyncio.Event:
        """Close the previous connection and wait (bounded) until its dashboard has stopped."""
        previous, self._session = self._session, None
        if previous is not None:
            await previous.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._session_done.wait(), REPLACE_TIMEOUT_S)
        done = self._session_done = asyncio.Event()
        return done

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler (start the command, relay both ways), after the previous
        connection's dashboard has stopped."""
        done = await self._replace_session()
        websocket = self._session = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            service = AppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=_closer(websocket),
                download_manager=self.download_manager,
                debug=False,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        finally:
            if service is not None:
                await service.stop()
            if self._session is websocket:
                self._session = None
            done.set()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        return None  # textual-serve prints a banner here; run_web prints the URL instead


async def serve(command: str, sock: socket.socket, token: str) -> None:
    """Serve the page on ``sock`` until SIGINT/SIGTERM; stop the open dashboard on the way out."""
    server = GuardedServer(command, sock.getsockname()[1], token)
    runner = web.AppRunner(await server._make_app(), handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run_web(argv: Sequence[str], port: int) -> int:
    """``asgi-dash --web``: print the URL with its token, then serve until Ctrl+C."""
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        print("asgi-dash: --web needs textual-serve: pip install 'asgi-dash[web]'", file=sys.stderr)
        return 2
    try:
        sock = bind_loopback(port)
    except OSError as exc:
        print(f"asgi-dash: --web-port {port}: {exc.strerror}; pick another or 0", file=sys.stderr)
        return 2
    token = secrets.token_urlsafe(32)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/?token={token}"
    print(f"asgi-dash: the dashboard is at {url}", file=sys.stderr, flush=True)
    print("asgi-dash: (loopback only; the token is new every run; Ctrl+C stops)", file=sys.stderr)
    asyncio.run(serve(dashboard_command(argv), sock, token))
    return 0
