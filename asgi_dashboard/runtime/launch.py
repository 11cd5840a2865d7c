"""Starting server processes that are direct children of the dashboard, and the first one early.

The supervisor (:mod:`.supervisor`) spawns a generation with :func:`spawn_child` when the warm
process cannot fork it. The first generation is special: ``asgi-dash`` calls :func:`prespawn`
right after parsing its arguments, before it imports asyncio, the event schema, the headless
printer or Textual, and the runtime adopts that process (:func:`claim_prespawned`) instead of
starting one. On Linux the first generation is a *fork* of the CLI at that point: the process is
still single-threaded and has imported little more than argparse, so the server skips a second
interpreter start-up (~35 ms here: interpreter, site, our CLI modules) and loads Django while the
dashboard imports the rest of itself. Elsewhere, or with ``ASGI_DASH_NO_FORK=1``, it is a fresh
interpreter (``python -m asgi_dashboard.runtime.child``). Measured with ``python -m bench --only
coldstart``: see bench/README.md.

This module is imported on that early path, so it imports only the standard library and
:mod:`..config`, :mod:`..envfile`, :mod:`.sockets`, :mod:`.spec` (no asyncio, no events, no
Uvicorn).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Literal

from ..config import DashboardConfig
from ..envfile import describe, env_file_values
from .sockets import BindError, bind_socket
from .spec import ServerSpec

#: How a server process was started: forked (from the CLI or the warm process), or spawned.
LaunchHow = Literal["fork", "spawn"]


def fork_unavailable_reason() -> str | None:
    """Why server processes cannot be forked on this system at all (None: they can)."""
    if os.environ.get("ASGI_DASH_NO_FORK", "") not in ("", "0"):
        return "ASGI_DASH_NO_FORK is set"
    if sys.platform != "linux":
        return f"fork path is Linux-only (this is {sys.platform})"
    if not (hasattr(os, "fork") and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")):
        return "os.fork, os.pidfd_open or socket.send_fds is missing"
    return None


def child_env(config: DashboardConfig) -> dict[str, str]:
    """The server process's environment: ours, ``config.env``, and the project's ``.env``.

    The ``.env`` files are read again each time (every spawn, the fork of the CLI, every warm
    process), so an edited value takes effect on the next reload; variables already set win,
    as with ``load_dotenv()``'s default ``override=False`` (see :mod:`..envfile`). Computed here,
    in the parent, rather than in the server process: the same code then serves the spawned
    child, the CLI's early fork and the warm process (whose forks inherit its environment),
    and the parent's own environment is never changed.
    """
    env = {**os.environ, **config.env}
    if config.env_files:
        env.update(env_file_values(config.env_files, env)[0])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the spec says which settings to use
    return env


def env_file_label(config: DashboardConfig) -> str:
    """The ``.env`` files that exist now, for ServerStarted.env_file ("" for none)."""
    return describe(tuple(f.path for f in config.env_files if f.path.is_file()))


def child_spec(
    config: DashboardConfig,
    *,
    sock_fd: int,
    event_fd: int,
    control_fd: int,
    generation: int,
    worker: int = 0,
) -> ServerSpec:
    """What :mod:`.child` (or a fork of :mod:`.warm`) needs to serve one generation."""
    return ServerSpec(
        project_dir=str(config.project_dir),
        settings_module=config.settings_module,
        settings_source=config.settings_source,
        app=config.app,
        host=config.host,
        sock_fd=sock_fd,
        event_fd=event_fd,
        control_fd=control_fd,
        static=config.static,
        generation=generation,
        graceful_timeout=config.graceful_timeout,
        block_threshold_ms=config.block_threshold_ms,
        n_plus_one=config.n_plus_one,
        hops=config.hops,
        spawned_at=time.time(),
        serve_errors=config.reload,
        # The first start's checks wait less: nobody is waiting on a reload's first request.
        checks_delay_s=0.3 if generation <= 1 else 1.0,
        env_file=env_file_label(config),
        worker=worker,
        workers=config.workers,
    )


@dataclass
class GenerationPipes:
    """The event and control pipes of one generation, and the spec that hands the child its ends.

    The parent keeps ``event_r`` and ``control_w``; once the child has been started (spawned,
    forked, or forked by the warm process) the parent closes the child's ends.
    """

    spec: ServerSpec
    event_r: int
    control_w: int
    child_ends: tuple[int, int]

    @classmethod
    def open(
        cls, config: DashboardConfig, sock: socket.socket, generation: int, worker: int = 0
    ) -> GenerationPipes:
        """Pipes for one server process; ``worker`` is its index with ``--workers N`` (N > 1)."""
        event_r, event_w = os.pipe()
        control_r, control_w = os.pipe()
        spec = child_spec(
            config,
            sock_fd=sock.fileno(),
            event_fd=event_w,
            control_fd=control_r,
            generation=generation,
            worker=worker,
        )
        return cls(spec, event_r, control_w, (event_w, control_r))

    def close_child_ends(self) -> None:
        for fd in self.child_ends:
            os.close(fd)

    def close_parent_ends(self) -> None:
        for fd in (self.event_r, self.control_w):
            os.close(fd)


class ServerProcess:
    """A server process that is our direct child: its PID and the read ends of its output."""

    def __init__(
        self, pid: int, stdout_fd: int, stderr_fd: int, popen: subprocess.Popen[bytes] | None
    ) -> None:
        self.pid = pid
        self.stdout_fd = stdout_fd
        self.stderr_fd = stderr_fd
        self.popen = popen
        self.returncode: int | None = None

    def reap(self, *, block: bool) -> int | None:
        """The exit code (negative: the signal), reaping the process; None if still running."""
        if self.returncode is None:
            if self.popen is not None:
                self.returncode = self.popen.wait() if block else self.popen.poll()
            else:
                pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        # Only while it is unreaped: until then its PID cannot belong to anyone else.
        if self.reap(block=False) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _output_pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    return os.pipe(), os.pipe()


def spawn_child(config: DashboardConfig, spec: ServerSpec) -> ServerProcess:
    """A fresh interpreter running :mod:`.child` with the socket and both pipes inherited."""
    (out_r, out_w), (err_r, err_w) = _output_pipes()
    pass_fds = (spec.sock_fd, spec.event_fd, spec.control_fd)
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", "asgi_dashboard.runtime.child", spec.to_json()],
            pass_fds=pass_fds,
            stdin=subprocess.DEVNULL,
            stdout=out_w,
            stderr=err_w,
            # Its own session: Ctrl+C in the terminal goes to the dashboard, which decides.
            start_new_session=True,
            cwd=str(config.project_dir),
            env=child_env(config),
        )
    except BaseException:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return ServerProcess(popen.pid, out_r, err_r, popen)


def fork_child(
    config: DashboardConfig, spec: ServerSpec, parent_ends: tuple[int, ...] = ()
) -> ServerProcess:
    """Fork this (still single-threaded) process into a server running :func:`.child.run`.

    ``parent_ends`` (the parent's ends of the event and control pipes) are closed in the child:
    a child holding the write end of its own control pipe never sees the EOF that tells it the
    dashboard is gone (and outlives a SIGKILLed dashboard while a sync view runs).
    """
    (out_r, out_w), (err_r, err_w) = _output_pipes()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _become_server(config, spec, out_w, err_w, (out_r, err_r, *parent_ends))  # no return
    os.close(out_w)
    os.close(err_w)
    return ServerProcess(pid, out_r, err_r, None)


def _become_server(
    config: DashboardConfig,
    spec: ServerSpec,
    out_w: int,
    err_w: int,
    parent_ends: tuple[int, ...],
) -> None:
    """In the forked child: look like ``python -u -m asgi_dashboard.runtime.child``, then serve."""
    code = 1
    try:
        for fd in parent_ends:
            os.close(fd)
        os.setsid()  # as start_new_session: Ctrl+C in the terminal is the dashboard's
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.close(out_w)
        os.close(err_w)
        # Unbuffered text streams on the new fds, as PYTHONUNBUFFERED gives a spawned child.
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = io.TextIOWrapper(
                io.FileIO(fd, "w", closefd=False),
                encoding="utf-8",
                errors="backslashreplace",
                line_buffering=True,
                write_through=True,
            )
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
        env = child_env(config)  # before clear(): it starts from our own environment
        os.environ.clear()
        os.environ.update(env)
        os.chdir(config.project_dir)
        sys.argv = [sys.argv[0]]
        from .child import run

        code = run(spec)
    except BaseException:  # whatever happens, never return into the CLI
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


@dataclass
class Prespawned:
    """The first generation, started before the dashboard finished importing itself."""

    config: DashboardConfig
    sock: socket.socket | None
    process: ServerProcess | None = None
    event_r: int = -1
    control_w: int = -1
    how: LaunchHow = "spawn"
    #: Set instead of the rest when the address could not be bound.
    bind_error: str | None = None


_prespawned: Prespawned | None = None


def prespawn(config: DashboardConfig) -> None:
    """Bind and start generation 1 now (child mode only); the runtime claims it at start."""
    global _prespawned
    if config.in_process:
        return
    try:
        sock = bind_socket(config.host, config.port)
    except BindError as exc:
        _prespawned = Prespawned(config, None, bind_error=str(exc))
        return
    # With --workers N this is worker 1; the runtime starts the others when it adopts it.
    pipes = GenerationPipes.open(config, sock, 1, worker=1 if config.workers > 1 else 0)
    how: LaunchHow = "fork" if fork_unavailable_reason() is None else "spawn"
    try:
        if how == "fork":
            process = fork_child(config, pipes.spec, (pipes.event_r, pipes.control_w))
        else:
            process = spawn_child(config, pipes.spec)
    except OSError:
        # The runtime starts it again the usual way, and reports what fails.
        pipes.close_parent_ends()
        sock.close()
        return
    finally:
        pipes.close_child_ends()
    _prespawned = Prespawned(config, sock, process, pipes.event_r, pipes.control_w, how)


def claim_prespawned(config: DashboardConfig) -> Prespawned | None:
    """The process :func:`prespawn` started for this config, once; None if there is none."""
    global _prespawned
    early, _prespawned = _prespawned, None
    if early is None:
        return None
    if early.config != config:
        discard(early)
        return None
    return early


def discard(early: Prespawned) -> None:
    """End a prespawned process nobody claimed (ours, by its PID) and free the socket."""
    if early.process is not None:
        early.process.kill()
        early.process.reap(block=True)
        process = early.process
        for fd in (early.event_r, early.control_w, process.stdout_fd, process.stderr_fd):
            os.close(fd)
    if early.sock is not None:
        early.sock.close()


__all__ = [
    "BindError",
    "GenerationPipes",
    "LaunchHow",
    "Prespawned",
    "ServerProcess",
    "child_env",
    "child_spec",
    "claim_prespawned",
    "fork_child",
    "fork_unavailable_reason",
    "prespawn",
    "spawn_child",
]
