"""Real processes for the attach tests: gunicorn with Uvicorn workers, ``asgi-dash collect``.

Each is started with its own stdout read by a thread, waited for with explicit deadlines (no
sleeps as synchronisation), and stopped by its PID (SIGTERM, then SIGKILL after a bound).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asgi_dashboard

DEMO_DIR = Path(asgi_dashboard.__file__).resolve().parent / "demo"
VENV_BIN = Path(sys.executable).parent

#: The one line the deployment adds, in a module of its own (the demo's asgi.py stays as is).
ATTACHED_ASGI = """\
import asgi_dashboard
from demosite.asgi import application as demo

application = asgi_dashboard.attach(demo)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    """A 0700 folder with a short path (a Unix socket path holds at most 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="ad-"))
    try:
        yield path
    finally:
        for child in path.iterdir():
            with contextlib.suppress(OSError):
                child.unlink()
        with contextlib.suppress(OSError):
            path.rmdir()


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM to our process (by PID), then SIGKILL if it outlives ``timeout``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Lines:
    """A process's stdout lines, read by a thread; :meth:`wait_for` with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return [json.loads(line) for line in self.lines if line.startswith("{")]

    def wait_for(self, what: Callable[[list[dict[str, Any]]], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                events = [json.loads(line) for line in self.lines if line.startswith("{")]
                if what(events):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not seen within {timeout} s; last: {self.lines[-5:]}")
                self._cond.wait(left)


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


@contextlib.contextmanager
def collector(sock: Path) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """``asgi-dash collect --headless --json`` on ``sock``, once its socket listens."""
    env = {**os.environ, "ASGI_DASH_COLLECT": str(sock)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "asgi_dashboard", "collect", "--headless", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = Lines(proc)
    try:
        lines.wait_for(lambda ev: bool(named(ev, "server-started")), 20)
        yield proc, lines
    finally:
        stop(proc)


@contextlib.contextmanager
def gunicorn(
    folder: Path, sock: Path, workers: int = 2, *, preload: bool = False
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """The demo under gunicorn with ``workers`` Uvicorn workers, wrapped by attach; yields the
    process and its port once it answers. ``preload``: the master imports (and wraps) the
    application before forking the workers."""
    (folder / "attached_asgi.py").write_text(ATTACHED_ASGI)
    port = free_port()
    env = {
        **os.environ,
        "ASGI_DASH_COLLECT": str(sock),
        "ASGI_DASH_DEMO_DB": str(folder / "demo.sqlite3"),
    }
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--worker-class",
            "uvicorn_worker.UvicornWorker",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--bind",
            f"127.0.0.1:{port}",
            "--pythonpath",
            f"{DEMO_DIR},{folder}",
            *(["--preload"] if preload else []),
            "attached_asgi:application",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=folder,
    )
    try:
        wait_until_answers(port, proc, 60)
        yield proc, port
    finally:
        stop(proc, 15)


def wait_until_answers(port: int, proc: subprocess.Popen[str], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/sync/?ms=0", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        threading.Event().wait(0.1)  # polling a port that is not open yet: nothing to wait on
    raise AssertionError(f"gunicorn did not answer on {port} within {timeout} s")


def load(port: int, count: int, path: str = "/sync/?ms=0", concurrency: int = 8) -> list[int]:
    """``count`` requests, ``concurrency`` at a time, each on a new connection (so the kernel
    spreads them over the workers); returns the statuses."""
    import httpx

    statuses: list[int] = []
    lock = threading.Lock()
    todo = iter(range(count))

    def work() -> None:
        while True:
            with lock:
                if next(todo, None) is None:
                    return
            r = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=20)
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses
