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

__all__ = ["BindError", "DashServer", "bind_socket", "make_server", "serve", "url_for"]


class DashServer(uvicorn.Server):
    """A Uvicorn server that does not touch signals and tells us when it is listening."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self.on_started = on_started

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
        # Keep-alive connections must not keep an old generation alive after a restart.
        timeout_keep_alive=5,
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


async def wait_closed(task: asyncio.Task[Any], timeout: float) -> bool:
    """Wait for a server task, bounded; True if it finished."""
    done, _ = await asyncio.wait({task}, timeout=timeout)
    return bool(done)
