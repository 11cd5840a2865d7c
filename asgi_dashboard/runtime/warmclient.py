"""The supervisor's side of the fork fast path: start, use and replace the warm process.

:class:`ForkLauncher` keeps one warm process (:mod:`.warm`) and asks it to fork each server
generation. Per fork it makes the event, control, stdout and stderr pipes and passes their ends
with ``socket.send_fds`` over a ``SOCK_SEQPACKET`` socketpair (one message per command, fds
attached). The forked server is a grandchild; :class:`ForkedProcess` gives the supervisor the
same ``pid``/``wait()``/``kill()`` surface as an ``asyncio`` subprocess (exit statuses come from
the warm process, which reaps its children).

When the fast path is not used (``launch`` returns None and :attr:`ForkLauncher.reason` says why):
no ``os.fork``/``os.pidfd_open``/``socket.send_fds`` (not Linux), ``ASGI_DASH_NO_FORK=1``, the
project does not load in the warm process (the plain child then reports the error), or the warm
process has started threads (forking it would not be safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from ..config import DashboardConfig
from .launch import fork_unavailable_reason
from .spec import ServerSpec, WarmSpec

READY_TIMEOUT_S = 120.0
REPLY_TIMEOUT_S = 10.0


class ForkedProcess:
    """A server generation forked by the warm process (our grandchild)."""

    def __init__(self, warm: WarmProcess, pid: int) -> None:
        self.warm = warm
        self.pid = pid
        self.returncode: int | None = None
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def wait(self) -> int:
        return await asyncio.shield(self.exited)

    def kill(self) -> None:
        # The warm process has not reaped it yet, so its PID cannot belong to anyone else.
        self.warm.send({"cmd": "kill", "pid": self.pid})

    def set_exit(self, code: int) -> None:
        if not self.exited.done():
            self.returncode = code
            self.exited.set_result(code)


class WarmProcess:
    """One warm process and the socket to it."""

    def __init__(self, on_exit: Callable[[WarmProcess], None]) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.sock: socket.socket | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[bool] = loop.create_future()
        self.files: frozenset[str] = frozenset()
        self.failure = ""
        self.children: dict[int, ForkedProcess] = {}
        self._replies: deque[asyncio.Future[dict[str, Any]]] = deque()
        self._buffer = b""
        self._on_exit = on_exit
        self.retired = False

    async def start(
        self, config: DashboardConfig, listen: socket.socket, env: dict[str, str]
    ) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec = WarmSpec(
            project_dir=str(config.project_dir),
            settings_module=config.settings_module,
            app=config.app,
            chan_fd=theirs.fileno(),
        )
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "asgi_dashboard.runtime.warm",
                spec.to_json(),
                pass_fds=(listen.fileno(), theirs.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                # Import-time prints of the project go nowhere: the real server (the forked
                # child, or the plain child on failure) prints them again where they are shown.
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                cwd=str(config.project_dir),
                env=env,
            )
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        asyncio.get_running_loop().add_reader(ours.fileno(), self._readable)

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> bool:
        if self.sock is None:
            return False
        try:
            socket.send_fds(self.sock, [json.dumps(message).encode() + b"\n"], fds or [])
        except OSError:
            return False
        return True

    def _readable(self) -> None:
        assert self.sock is not None
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._closed()
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line:
                self._message(json.loads(line))

    def _message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ready":
            self.files = frozenset(message.get("files", ()))
            if not self.ready.done():
                self.ready.set_result(True)
        elif kind == "failed":
            self.failure = str(message.get("message", "the project did not load"))
            if not self.ready.done():
                self.ready.set_result(False)
        elif kind in ("forked", "unsafe"):
            if self._replies:
                future = self._replies.popleft()
                if not future.done():
                    future.set_result(message)
        elif kind == "exited":
            child = self.children.pop(int(message["pid"]), None)
            if child is not None:
                child.set_exit(int(message["code"]))

    def _closed(self) -> None:
        if self.sock is not None:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if not self.ready.done():
            self.ready.set_result(False)
            self.failure = self.failure or "the warm process exited during start-up"
        for future in self._replies:
            if not future.done():
                future.set_result({"type": "unsafe", "reason": "the warm process exited"})
        # Its children got SIGTERM (PR_SET_PDEATHSIG) and see EOF on their pipes.
        for child in self.children.values():
            child.set_exit(-15)
        self.children.clear()
        self._on_exit(self)

    async def fork(self, spec: ServerSpec, fds: list[int]) -> ForkedProcess | str:
        """Fork a server generation; returns it, or the reason it could not be forked."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies.append(future)
        if not self.send({"cmd": "fork", "spec": dataclasses.asdict(spec)}, fds):
            self._replies.remove(future)
            return "the warm process is gone"
        try:
            reply = await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        except TimeoutError:
            return "the warm process did not answer"
        if reply.get("type") != "forked":
            return str(reply.get("reason", "fork refused"))
        child = ForkedProcess(self, int(reply["pid"]))
        self.children[child.pid] = child
        return child

    def retire(self) -> None:
        """Fork no more; the process exits when its last server generation has."""
        self.retired = True
        self.send({"cmd": "retire"})

    async def close(self, timeout: float) -> None:
        self.retire()
        if self.process is None:
            return
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()  # our own child, by its PID
            await asyncio.wait_for(self.process.wait(), 5.0)
        if self.sock is not None:
            self._closed()


async def pipe_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


class ForkLauncher:
    """Owns the warm process; forks server generations from it, or says why it cannot."""

    def __init__(self, config: DashboardConfig, listen: socket.socket, env: dict[str, str]) -> None:
        self.config = config
        self.listen = listen
        self.env = env
        self.warm: WarmProcess | None = None
        self.retired: set[WarmProcess] = set()
        #: Why the last launch did not fork (shown as ReloadFinished.reason).
        self.reason = ""
        #: Set once fork turned out unsafe for this project: respawn from then on.
        self.disabled = fork_unavailable_reason()
        self.closed = False

    def files(self) -> frozenset[str]:
        return self.warm.files if self.warm is not None else frozenset()

    def _forget(self, warm: WarmProcess) -> None:
        self.retired.discard(warm)
        if self.warm is warm:
            self.warm = None

    async def ensure_warm(self, *, rebuild: bool = False) -> WarmProcess | None:
        if rebuild and self.warm is not None:
            old, self.warm = self.warm, None
            old.retire()
            self.retired.add(old)
        if self.closed:
            return None
        if self.warm is None:
            self.warm = WarmProcess(self._forget)
            await self.warm.start(self.config, self.listen, self.env)
        warm = self.warm
        if self.closed:  # close() ran while it was starting
            await self._drop(warm)
            return None
        try:
            ok = await asyncio.wait_for(asyncio.shield(warm.ready), READY_TIMEOUT_S)
        except TimeoutError:
            ok, warm.failure = False, "the warm process did not get ready in time"
        if not ok:
            self.reason = f"the project did not load in the warm process ({warm.failure})"
            await self._drop(warm)
            return None
        return warm

    async def _drop(self, warm: WarmProcess) -> None:
        if self.warm is warm:
            self.warm = None
        await warm.close(2.0)

    async def launch(
        self, spec: ServerSpec, *, rebuild: bool = False
    ) -> tuple[ForkedProcess, asyncio.StreamReader, asyncio.StreamReader] | None:
        """Fork a generation for ``spec`` (its event/control fds are passed along)."""
        if self.disabled:
            self.reason = self.disabled
            return None
        warm = await self.ensure_warm(rebuild=rebuild)
        if warm is None:
            return None
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        fds = [spec.event_fd, spec.control_fd, out_w, err_w]
        try:
            result = await warm.fork(spec, fds)
        finally:
            os.close(out_w)
            os.close(err_w)
        if isinstance(result, str):
            os.close(out_r)
            os.close(err_r)
            self.reason = f"fork not used: {result}"
            if "threads" in result:
                self.disabled = result
            await self._drop(warm)
            return None
        self.reason = ""
        return result, await pipe_reader(out_r), await pipe_reader(err_r)

    async def close(self, timeout: float) -> None:
        self.closed = True
        warms = [w for w in (self.warm, *self.retired) if w is not None]
        self.warm = None
        await asyncio.gather(*(w.close(timeout) for w in warms), return_exceptions=True)
