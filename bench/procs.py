"""Start, watch and stop the servers under test: plain ``uvicorn`` and ``asgi-dash --headless``.

Every process this package starts is registered here and ended by its own PID
(``Popen.terminate`` then ``kill``); the child server that ``asgi-dash`` spawns in child mode is
recorded from its ``server-started`` event and checked (and, only if it outlived its parent,
killed by that PID). :func:`leftovers` lists anything still alive, so the runner can say so.

Readiness: ``asgi-dash`` prints ``server-started`` (``--json``) with the URL on stdout, which goes
to a file, never to the terminal (printing thousands of lines per second would make the terminal
the bottleneck). Plain uvicorn is polled over HTTP.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .projects import Project

PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")

_started: list[subprocess.Popen[bytes]] = []
_grandchildren: set[int] = set()


class ServerError(RuntimeError):
    """A server did not start; the message names its log file."""


@dataclass
class Server:
    """One running server under test."""

    label: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    #: The process that runs the HTTP server (== proc.pid except asgi-dash child mode).
    server_pid: int
    pids: list[int] = field(default_factory=list)

    def cpu_seconds(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self.pids}


def free_port() -> int:
    """A free loopback port (bound to 0 and released; a tiny race, loopback only)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from ``/proc/PID/stat``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size (``VmRSS``) in MiB, 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _spawn(cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    finally:
        out.close()  # the child has its own copy
    _started.append(proc)
    return proc


def base_env(project: Project) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(project.env)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def uvicorn_cmd(project: Project, port: int) -> list[str]:
    """Plain uvicorn CLI with the same HTTP (h11/httptools "auto") and WebSocket implementation
    asgi-dash uses (``websockets-sansio``, see asgi_dashboard/runtime/server.py)."""
    return [
        PYTHON, "-m", "uvicorn", project.asgi, "--no-access-log", "--host", "127.0.0.1",
        "--port", str(port), "--ws", "websockets-sansio", "--lifespan", "off",
    ]  # fmt: skip


def uvicorn_env(project: Project) -> dict[str, str]:
    env = base_env(project)
    env["DJANGO_SETTINGS_MODULE"] = project.settings
    env["PYTHONPATH"] = str(project.dir)
    return env


def asgi_dash_cmd(project: Project, port: int, *, in_process: bool) -> list[str]:
    cmd = [PYTHON, "-m", "asgi_dashboard", "--headless", "--json", "--port", str(port)]
    if in_process:
        cmd.append("--in-process")
    return [*cmd, str(project.dir)]


def wait_http(url: str, timeout: float, interval: float = 0.005) -> float:
    """Poll ``url`` until it answers 2xx; returns the time it took. Bounded by ``timeout``."""
    host, port, path = _split(url)
    start = time.perf_counter()
    deadline = start + timeout
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
    while time.perf_counter() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), 1.0) as s:
            s.settimeout(max(0.1, deadline - time.perf_counter()))
            s.sendall(request)
            head = s.recv(64)
            if head[9:10] == b"2":
                return time.perf_counter() - start
        time.sleep(interval)
    raise ServerError(f"{url} did not answer 2xx within {timeout:.0f} s")


def _split(url: str) -> tuple[str, int, str]:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port), "/" + path


def start_uvicorn(project: Project, log_dir: Path, *, timeout: float = 30.0) -> Server:
    port = free_port()
    log = log_dir / f"uvicorn-{project.name}-{port}.log"
    proc = _spawn(uvicorn_cmd(project, port), cwd=project.dir, env=uvicorn_env(project), log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + project.ready_path, timeout)
    except ServerError as exc:
        stop(proc)
        raise ServerError(f"plain uvicorn: {exc}; see {log}") from None
    return Server("uvicorn", proc, url, log, proc.pid, [proc.pid])


def read_started(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> dict[str, object]:
    """The ``server-started`` event from an ``asgi-dash --headless --json`` log, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            for line in f:
                if line.startswith(b"{") and b'"server-started"' in line:
                    return dict(json.loads(line))
                if b'"server-failed"' in line:
                    raise ServerError(f"asgi-dash failed to start: {line[:300]!r}")
        if proc.poll() is not None:
            raise ServerError(f"asgi-dash exited with {proc.returncode}; see {log}")
        time.sleep(0.02)
    raise ServerError(f"no server-started event within {timeout:.0f} s; see {log}")


def start_asgi_dash(
    project: Project, log_dir: Path, *, in_process: bool, timeout: float = 30.0
) -> Server:
    mode = "in-process" if in_process else "child"
    log = log_dir / f"asgi-dash-{mode}-{project.name}-{len(_started)}.jsonl"
    cmd = asgi_dash_cmd(project, 0, in_process=in_process)
    proc = _spawn(cmd, cwd=project.dir, env=base_env(project), log=log)
    try:
        started = read_started(log, proc, timeout)
        url = str(started["url"])
        server_pid = int(started["pid"])  # type: ignore[call-overload]
        if server_pid != proc.pid:
            _grandchildren.add(server_pid)
        wait_http(url + project.ready_path, timeout)
    except ServerError:
        stop(proc)
        raise
    pids = [proc.pid] if server_pid == proc.pid else [proc.pid, server_pid]
    return Server(f"asgi-dash {mode}", proc, url, log, server_pid, pids)


def stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """End one process we started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def stop_server(server: Server) -> None:
    stop(server.proc)
    for pid in server.pids:
        if pid != server.proc.pid:
            _reap_grandchild(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _reap_grandchild(pid: int, timeout: float = 5.0) -> None:
    """asgi-dash's server child exits with its parent (control pipe EOF / PDEATHSIG)."""
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # only the PID asgi-dash reported for its own child


def track(proc: subprocess.Popen[bytes]) -> None:
    """Register a process started elsewhere in this package, so stop_all() ends it."""
    _started.append(proc)


def register_pid(pid: int) -> None:
    """Record a process started indirectly (e.g. by a runtime inside this process)."""
    _grandchildren.add(pid)


def stop_all() -> None:
    for proc in _started:
        stop(proc)
    for pid in list(_grandchildren):
        _reap_grandchild(pid)


def leftovers() -> list[int]:
    """PIDs of processes this run started that are still alive (should be empty)."""
    alive = [p.pid for p in _started if p.poll() is None]
    return alive + [pid for pid in _grandchildren if _alive(pid)]
