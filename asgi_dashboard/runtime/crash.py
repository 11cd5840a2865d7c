"""What the supervisor does when the server process dies on its own (SIGKILL, a segfault,
``os._exit`` in a view): answer on the socket at once, restart with a backoff, stop on a loop.

**The stand-in.** The listening socket belongs to the dashboard, so after a crash connections
would wait in the kernel's backlog until a new generation accepts them. :class:`StandInServer`
accepts them in the dashboard's own event loop instead and answers every request with a 503 page
that says what happened (:func:`.errorpage.render_crash_page`), until the next generation reports
that it serves (or fails with its own error page). Why here and not in an error-page process: it
is up within one loop iteration of the exit being noticed (a pidfd), needs no interpreter start-up,
no Django and no Uvicorn (a few dozen lines of HTTP/1.1: read the head, answer, close), and it
cannot crash with the project. It answers ``Connection: close`` with ``Retry-After``, so a
browser's reload lands on the restarted server.

**The policy.** :class:`CrashPolicy` decides when to restart: :data:`RESTART_DELAYS_S` after a
crash (growing while the server keeps dying), and no more automatic restarts once it died
:data:`CRASH_LOOP_COUNT` times in a row within :data:`QUICK_CRASH_S` of starting; a save or a
manual restart (``r``) starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..events import Event, RequestFinished
from .errorpage import render_crash_page

#: Seconds before each automatic restart: after a crash, then after each quick one in a row.
RESTART_DELAYS_S = (0.5, 1.0, 2.0)
#: A crash within this many seconds of the server starting (or before it started) is "quick".
QUICK_CRASH_S = 2.0
#: Quick crashes in a row after which automatic restarts stop.
CRASH_LOOP_COUNT = 3
#: The stand-in's limits: request head size, and how long a connection may take to send it.
MAX_HEAD = 64 * 1024
HEAD_TIMEOUT_S = 10.0
#: After answering, how long unread request bytes are drained before the socket is closed (a
#: close with unread data sends a reset, which could reach the client before the answer).
LINGER_S = 2.0


@dataclass(slots=True)
class CrashPolicy:
    """Counts quick crashes in a row and says when (or whether) to restart."""

    quick_crashes: int = 0

    def crashed(self, ran_s: float | None) -> float | None:
        """A crash after ``ran_s`` seconds of serving (None: it never started); returns the
        restart delay in seconds, or None for a crash loop (no automatic restart)."""
        quick = ran_s is None or ran_s < QUICK_CRASH_S
        self.quick_crashes = self.quick_crashes + 1 if quick else 0
        if self.quick_crashes >= CRASH_LOOP_COUNT:
            return None
        return RESTART_DELAYS_S[min(self.quick_crashes, len(RESTART_DELAYS_S) - 1)]

    def reset(self) -> None:
        """A save or a manual restart: the user changed something, try again."""
        self.quick_crashes = 0

    @property
    def looping(self) -> bool:
        return self.quick_crashes >= CRASH_LOOP_COUNT


@dataclass(frozen=True, slots=True)
class StandInRequest:
    """One request the stand-in answered (the supervisor logs it like any other)."""

    method: str
    path: str
    query: str
    client: str | None
    headers: tuple[tuple[str, str], ...]
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_size: int
    total_ns: int
    ts: float


def response_head(status: int, reason: str, length: int) -> list[tuple[str, str]]:
    return [
        ("content-type", "text/html; charset=utf-8"),
        ("content-length", str(length)),
        ("retry-after", "1"),
        ("cache-control", "no-store"),
        ("connection", "close"),
    ]


class _Responder(asyncio.Protocol):
    """One connection: read the request head, answer with the current page, close."""

    def __init__(self, owner: StandInServer) -> None:
        self.owner = owner
        self.buffer = bytearray()
        self.answered = False
        self.transport: asyncio.Transport | None = None
        self.start_ns = time.perf_counter_ns()
        self.ts = time.time()
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, self._give_up)

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return  # a request body we do not read: drained until the client closes
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 and len(self.buffer) < MAX_HEAD:
            return
        self._answer(bytes(self.buffer[: end if end >= 0 else MAX_HEAD]))

    def eof_received(self) -> bool | None:
        if not self.answered and self.buffer:
            self._answer(bytes(self.buffer))
        return None  # close

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _give_up(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _answer(self, head: bytes) -> None:
        assert self.transport is not None
        self.answered = True
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0] or rest
        path, _, query = target.partition("?")
        headers = tuple(
            (name.strip().lower(), value.strip())
            for name, sep, value in (line.partition(":") for line in lines[1:])
            if sep
        )
        body = self.owner.page()
        status, reason = 503, "Service Unavailable"
        response_headers = response_head(status, reason, len(body))
        raw = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in response_headers
        )
        sent = b"" if method == "HEAD" else body
        self.transport.write(raw.encode("latin-1") + b"\r\n" + sent)
        # Half-close, then drain what the client still sends until it closes (bounded).
        with contextlib.suppress(OSError, NotImplementedError, RuntimeError):
            self.transport.write_eof()
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(LINGER_S, self._give_up)
        peer = self.transport.get_extra_info("peername")
        client = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None
        self.owner.answered(
            StandInRequest(
                method=method or "?",
                path=path,
                query=query,
                client=client,
                headers=headers,
                status=status,
                response_headers=tuple(response_headers),
                response_size=len(sent),
                total_ns=time.perf_counter_ns() - self.start_ns,
                ts=self.ts,
            )
        )


class StandInServer:
    """Answers on the shared listening socket from the dashboard's loop while no server does."""

    def __init__(
        self,
        sock: socket.socket,
        page: Callable[[], bytes],
        on_request: Callable[[StandInRequest], None],
    ) -> None:
        self.sock = sock
        self.page = page
        self.on_request = on_request
        self.server: asyncio.Server | None = None

    @property
    def serving(self) -> bool:
        return self.server is not None

    async def start(self) -> None:
        if self.server is not None:
            return
        # A duplicate: asyncio closes the socket it serves on, the original stays for the
        # next generation. (The duplicate shares the open file description, which the server
        # processes already made non-blocking.)
        dup = self.sock.dup()
        try:
            self.server = await asyncio.get_running_loop().create_server(
                lambda: _Responder(self), sock=dup, backlog=2048
            )
        except BaseException:
            dup.close()
            raise

    def answered(self, request: StandInRequest) -> None:
        with contextlib.suppress(Exception):  # logging must never break the answer
            self.on_request(request)

    def close(self) -> None:
        """Stop accepting (connections being answered finish on their own)."""
        if self.server is not None:
            self.server.close()
            self.server = None


def crash_page(
    generation: int,
    pid: int,
    code: int,
    stderr_tail: tuple[str, ...],
    restart_in: float | None,
    *,
    crash_loop: bool,
) -> bytes:
    """The stand-in's page for a server process that exited with ``code`` (negative: signal)."""
    if code < 0:
        try:
            how = f"killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"killed by signal {-code}"
    else:
        how = f"exit code {code}"
    return render_crash_page(
        generation=generation,
        pid=pid,
        how=how,
        stderr_tail=stderr_tail,
        restart_in_s=restart_in,
        crash_loop=crash_loop,
    ).encode()


class CrashStandIn:
    """The stand-in as the supervisor uses it: opened on a crash, closed once a generation
    answers; each request it answers is reported as a RequestFinished of the generation that
    crashed (``generation()``)."""

    def __init__(self, emit: Callable[[Event], None], generation: Callable[[], int]) -> None:
        self.emit = emit
        self.generation = generation
        self.server: StandInServer | None = None
        #: The page it answers with (set on each crash: the restart countdown changes).
        self.page = b""
        self._ids = 0

    async def open(self, sock: socket.socket) -> None:
        if self.server is None:
            self.server = StandInServer(sock, lambda: self.page, self._answered)
        with contextlib.suppress(OSError):
            await self.server.start()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def _answered(self, request: StandInRequest) -> None:
        self._ids += 1
        generation = self.generation()
        self.emit(
            RequestFinished(
                ts=request.ts,
                id=f"{generation}-down-{self._ids}",
                method=request.method,
                path=request.path,
                query=request.query,
                status=request.status,
                generation=generation,
                client=request.client,
                response_size=request.response_size,
                total_ns=request.total_ns,
                request_headers=request.headers,
                response_headers=request.response_headers,
            )
        )
