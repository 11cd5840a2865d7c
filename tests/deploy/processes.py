"""Server processes for the deploy tests: started from a command line, read until they say they
are ready, stopped by the PIDs we started (a master first, then any worker it left behind).

Gunicorn and Uvicorn log to stderr (the access log to stdout): both are merged into one pipe read
by a thread, so a test waits for a log line with a deadline instead of sleeping, and a process
that dies at start fails the wait at once with its output in the message.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

STOP_TIMEOUT_S = 15.0


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a reparented worker may linger unreaped
    for a moment; it runs no code)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may contain spaces.
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


class ServerProcess:
    """One server process (and its output); every wait has a deadline."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        self.args = list(args)
        self.process = subprocess.Popen(
            self.args,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pid = self.process.pid
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, name=f"read-{self.pid}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def matches(self, pattern: str) -> list[re.Match[str]]:
        """Every match of ``pattern`` in the output so far, one per line at most."""
        regex = re.compile(pattern)
        with self._changed:
            found = (regex.search(line) for line in self._lines)
            return [m for m in found if m is not None]

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60.0) -> list[re.Match[str]]:
        """Wait until ``pattern`` matched ``count`` output lines; fail with the output if the
        process exits or the deadline passes first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.matches(pattern)
                if len(found) >= count:
                    return found[:count]
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(
                        f"{self.args[0]} exited ({self.process.returncode}) before "
                        f"{count} x {pattern!r}:\n{self.output}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {count} x {pattern!r} in {timeout} s:\n{self.output}")
                self._changed.wait(min(left, 0.5))

    def stop(self, children: Sequence[int] = ()) -> None:
        """SIGTERM the process, wait (bounded), SIGKILL if needed; then make sure none of
        ``children`` (PIDs it forked, e.g. gunicorn workers) survives it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while any(pid_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)  # reparented workers finishing their exit; bounded by the deadline
        for pid in children:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
