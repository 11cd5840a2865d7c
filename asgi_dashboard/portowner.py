"""Who holds a TCP port, and a free port near the default: for the "port is busy" messages.

Linux only, and only what this user may see: ``/proc/net/tcp`` and ``/proc/net/tcp6`` list
every listening socket with its inode (readable by anyone); ``/proc/<pid>/fd/*`` links name
``socket:[inode]`` for the processes we are allowed to look into (our own, or all as root).
The scan is bounded (:data:`SCAN_DEADLINE_S`, :data:`SCAN_MAX_PIDS`) and runs only after a bind
failed, never on a normal start. Imported on the CLI's early path: standard library only.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

#: The scan of /proc/<pid>/fd stops after this long or this many processes (a busy port must
#: not turn into a slow start).
SCAN_DEADLINE_S = 0.2
SCAN_MAX_PIDS = 4000
_LISTEN = "0A"


@dataclass(frozen=True, slots=True)
class PortOwner:
    pid: int
    name: str
    cmdline: str

    def describe(self) -> str:
        """``python3 (pid 4242: python -m http.server 8000)``, the command line shortened."""
        cmd = self.cmdline if len(self.cmdline) <= 60 else self.cmdline[:57] + "..."
        return f"{self.name} (pid {self.pid}: {cmd})" if cmd else f"{self.name} (pid {self.pid})"


def listening_inodes(port: int, proc: str = "/proc") -> set[str]:
    """Inodes of the sockets listening on ``port`` (any address, IPv4 and IPv6)."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"{proc}/net/{table}", encoding="ascii", errors="replace") as f:
                next(f, None)  # header
                for line in f:
                    fields = line.split()
                    if len(fields) < 10 or fields[3] != _LISTEN:
                        continue
                    local_port = int(fields[1].rpartition(":")[2], 16)
                    if local_port == port and fields[9] != "0":
                        inodes.add(fields[9])
        except (OSError, ValueError):
            continue
    return inodes


def find_port_owner(port: int, proc: str = "/proc") -> PortOwner | None:
    """The process (that we may see) listening on ``port``; None if none is visible."""
    inodes = listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    deadline = time.monotonic() + SCAN_DEADLINE_S
    try:
        pids = [int(p) for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return None
    for count, pid in enumerate(sorted(pids, reverse=True)):  # newest first: likelier culprits
        if count >= SCAN_MAX_PIDS or time.monotonic() > deadline:
            return None
        fd_dir = f"{proc}/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # another user's process, or gone
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in wanted:
                    return _owner(pid, proc)
            except OSError:
                continue
    return None


def _owner(pid: int, proc: str) -> PortOwner:
    name, cmdline = "?", ""
    try:
        with open(f"{proc}/{pid}/comm", encoding="utf-8", errors="replace") as f:
            name = f.read().strip() or "?"
        with open(f"{proc}/{pid}/cmdline", "rb") as f:
            cmdline = f.read(4096).replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        pass
    return PortOwner(pid, name, cmdline)


def describe_port_owner(port: int, *, command_line: bool = True) -> str:
    """`` by python3 (pid 4242: ...)``, or ``""`` when nobody we can see holds it; without the
    command line for a status bar (`` by python3 (pid 4242)``)."""
    if port <= 0:
        return ""
    try:
        owner = find_port_owner(port)
    except Exception:  # never let the diagnosis hide the diagnosis it decorates
        return ""
    if owner is None:
        return ""
    return f" by {owner.describe() if command_line else f'{owner.name} (pid {owner.pid})'}"


def port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now, with the options the server binds it with."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except (OSError, OverflowError):
        return False
    return True
