"""Run an (instrumented) ASGI app with Uvicorn's Python API on a socket we bound ourselves.

Shared by the child process and the in-process runtime. Traps this module avoids (see
``shared/STYLE.md``): ``uvicorn.Config`` would configure logging onto the real stderr
(``log_config=None``); ``Server.serve`` would install signal handlers and re-raise them
(``capture_signals`` disabled: the owner of the process decides about signals); Django and
Channels reject lifespan scopes (``lifespan="off"``); graceful shutdown would wait forever for an
open WebSocket (``timeout_graceful_shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable, Generator
from typing import Any

import uvicorn

from .sockets import BindError, bind_socket, url_for

#: How often a stopping server looks whether its last connection has closed.
DRAIN_POLL_S = 0.01
#: How long a stopping server waits for the request of a connection it accepted but has not read.
FRESH_GRACE_S = 0.1
#: Seconds an idle keep-alive connection stays open. It must be longer than any common client
#: keeps an idle connection for reuse (httpx 5 s, aiohttp 15 s, Go 90 s, curl 118 s): Uvicorn's
#: default, 5 s, equals httpx's ``keepalive_expiry``, and the server's clock starts when it has
#: sent the response, before the client has read it, so a client reusing a connection it thinks
#: 4.9 s idle sent its request onto a socket the server had just closed and got a reset
#: (``httpx.ReadError``). Measured: clients reusing after 4.90-5.00 s of idle, 7 resets in 160
#: requests at 5 s, none at 120 s; the fault battery's flood hit one in ~15,000 under load.
#: Idle connections do not delay a reload: a stopping server closes them at once.
KEEP_ALIVE_S = 120

__all__ = ["BindError", "DashServer", "bind_socket", "make_server", "serve", "url_for"]


class DashServer(uvicorn.Server):
    """A Uvicorn server that does not touch signals, tells us when it is listening, and stops
    as soon as it is told to.

    Uvicorn's own ``main_loop`` notices ``should_exit`` at its next 0.1 s tick, and its
    ``shutdown`` then sleeps 0.1 s and polls the remaining connections every 0.1 s
    (``uvicorn/server.py``): a server with nothing in flight took 0.1-0.3 s to stop. Here setting
    ``should_exit`` wakes the main loop at once, and the drain polls every
    :data:`DRAIN_POLL_S`, bounded by ``timeout_graceful_shutdown`` as before.
    """

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None):
        self._exit_wakeup = asyncio.Event()
        self._should_exit = False
        super().__init__(config)
        self.on_started = on_started

    @property
    def should_exit(self) -> bool:
        return self._should_exit

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        self._should_exit = value
        if value:
            # Set on the loop's thread (stop_now runs there): Event.set() is not thread-safe.
            self._exit_wakeup.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    def _log_started_message(self, listeners: Any) -> None:
        # Our own ServerStarted event replaces "Uvicorn running on ...".
        pass

    def stop_accepting(self) -> None:
        """Close the listening servers now (the next tick would only do it up to 0.1 s later),
        so a new generation on the same socket gets every new connection."""
        for server in getattr(self, "servers", []):
            server.close()
        self.should_exit = True

    async def main_loop(self) -> None:
        # Uvicorn's loop, waking early when should_exit is set (on_tick keeps the Date header
        # fresh once a second and says when to exit).
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_wakeup.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # The steps of uvicorn.Server.shutdown (lifespan is always "off" here), without its
        # fixed 0.1 s sleep and with a finer poll while connections drain.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        loop = asyncio.get_running_loop()
        # A connection accepted just before the listener closed may not have had its request
        # bytes read yet (HTTP protocols have no ``cycle`` until then): shutting it down now
        # would close it without a response. Uvicorn's 0.1 s tick delay covered that window;
        # here such a connection gets up to FRESH_GRACE_S to start its request, which it then
        # finishes (keep-alive off), like any in-flight one.
        fresh = {c for c in state.connections if getattr(c, "cycle", True) is None}
        for connection in list(state.connections):
            if connection not in fresh:
                connection.shutdown()
        fresh_until = loop.time() + FRESH_GRACE_S
        timeout = self.config.timeout_graceful_shutdown
        deadline = loop.time() + (float("inf") if timeout is None else float(timeout))
        # Idle connections close on the next loop iterations; busy ones finish their response.
        while (state.connections or state.tasks) and not self.force_exit:
            for connection in list(fresh):
                if connection not in state.connections:
                    fresh.discard(connection)
                elif getattr(connection, "cycle", None) is not None or loop.time() >= fresh_until:
                    fresh.discard(connection)
                    connection.shutdown()
            if loop.time() >= deadline:
                for task in state.tasks:
                    # Uvicorn's own message: the instrumentation recognises a reload's cut.
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(DRAIN_POLL_S)
        if not self.force_exit:
            await self.lifespan.shutdown()


def _http_protocol() -> type[asyncio.Protocol]:
    """Uvicorn's HTTP protocol ("auto": httptools if installed, else h11), telling the request it
    answers itself.

    When a request's body turns out to be invalid HTTP (a broken chunked encoding), Uvicorn
    writes a 400 and closes the connection (``send_400_response`` in ``h11_impl.py`` and
    ``httptools_impl.py``); the application only sees ``http.disconnect``. The scope of that
    request is marked (:data:`~..instrument.tap.SERVER_ANSWERED`) so the tap logs the status the
    client got instead of 0.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    from ..instrument.tap import SERVER_ANSWERED

    class MarkingHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        def send_400_response(self, msg: str) -> None:
            cycle = getattr(self, "cycle", None)
            if cycle is not None and not cycle.response_started:
                cycle.scope[SERVER_ANSWERED] = 400
            super().send_400_response(msg)

    return MarkingHTTPProtocol


def _ws_protocol() -> str:
    """Uvicorn's websockets-based protocol: the sans-I/O one where this Uvicorn has it (the
    legacy one is deprecated in 0.36+). Named explicitly: "auto" would pick wsproto if present."""
    from uvicorn.config import WS_PROTOCOLS

    return "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "websockets"


def make_server(
    app: Any,
    *,
    graceful_timeout: float,
    on_started: Callable[[], None] | None = None,
) -> DashServer:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        ws=_ws_protocol(),
        timeout_graceful_shutdown=graceful_timeout,  # type: ignore[arg-type]
        timeout_keep_alive=KEEP_ALIVE_S,
        http=_http_protocol(),
    )
    return DashServer(config, on_started)


async def serve(server: DashServer, sock: socket.socket) -> None:
    """Serve on ``sock`` until ``server.should_exit``.

    Uvicorn closes the sockets it is given on shutdown, so it gets a duplicate: the original
    stays open for the next generation.
    """
    dup = sock.dup()
    try:
        await server.serve(sockets=[dup])
    except SystemExit as exc:  # Uvicorn exits with SystemExit(3) on start-up failures
        raise RuntimeError(f"Uvicorn exited during start-up (code {exc.code})") from None
    finally:
        with contextlib.suppress(OSError):
            dup.close()


def versions() -> dict[str, str | None]:
    import django

    try:
        import channels

        channels_version: str | None = channels.__version__
    except ImportError:
        channels_version = None
    return {
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "uvicorn": uvicorn.__version__,
        "channels": channels_version,
    }
