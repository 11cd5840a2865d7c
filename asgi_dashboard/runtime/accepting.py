"""The server process's event loop when several workers share one listening socket.

asyncio accepts every pending connection each time the listening socket is readable (up to the
``backlog`` given to ``create_server``, 2048 under Uvicorn: ``BaseSelectorEventLoop.
_accept_connection`` in ``asyncio/selector_events.py``, bpo-27906). With ``--workers N`` all
workers wait on the same socket, and the first one to wake takes a whole burst: measured with 10
keep-alive clients connecting at once, one worker took all 10 and the other served nothing.
:class:`OneAcceptLoop` accepts one connection per wake-up instead (what libuv's
``UV_TCP_SINGLE_ACCEPT`` does for the same reason): a worker busy with a request does not accept,
so the idle one gets the next connection. The listen backlog is untouched (``listen()`` still
gets Uvicorn's value), so no connection is refused.

Standard library only: it runs in every server process before the project is served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


#: After each wake-up on the listening socket a worker leaves the next connection to the others
#: for this long: on a loaded machine the worker already running otherwise wins every race (one
#: accept per wake-up alone still gave 9 of 10 burst connections to one worker).
ACCEPT_PAUSE_S = 0.001


class OneAcceptLoop(asyncio.SelectorEventLoop):
    """A selector event loop that accepts at most one connection per readiness event, then
    stops watching the listening socket for :data:`ACCEPT_PAUSE_S`."""

    def _accept_connection(
        self, protocol_factory: Any, sock: Any, sslcontext: Any = None, server: Any = None,
        backlog: int = 100, *args: Any,
    ) -> None:  # fmt: skip
        # Private API, stable from Python 3.7 through 3.13: the reader callback asyncio
        # registers (``_start_serving``) passes these positionally, and asyncio's own EMFILE
        # path pauses and resumes accepting the same way (remove the reader, _start_serving).
        super()._accept_connection(  # type: ignore[misc]
            protocol_factory, sock, sslcontext, server, 1, *args
        )
        if sock.fileno() < 0:
            return
        self._remove_reader(sock.fileno())  # type: ignore[attr-defined]
        self.call_later(
            ACCEPT_PAUSE_S, self._resume, protocol_factory, sock, sslcontext, server, args
        )

    def _resume(
        self, protocol_factory: Any, sock: Any, sslcontext: Any, server: Any, args: tuple[Any, ...]
    ) -> None:
        # Not once the server has closed (a stop or a reload): its socket is closed too.
        if sock.fileno() >= 0 and (server is None or server.is_serving()):
            self._start_serving(  # type: ignore[attr-defined]
                protocol_factory, sock, sslcontext, server, 1, *args
            )


def run(main: Coroutine[Any, Any, T], *, one_accept: bool) -> T:
    """``asyncio.run(main)``, on a :class:`OneAcceptLoop` when ``one_accept``."""
    if not one_accept or not hasattr(asyncio.SelectorEventLoop, "_accept_connection"):
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=OneAcceptLoop) as runner:
        return runner.run(main)


__all__ = ["OneAcceptLoop", "run"]
