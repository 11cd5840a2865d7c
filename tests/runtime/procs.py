"""Test helpers: the processes below one of ours, read from /proc (no psutil)."""

from __future__ import annotations

import contextlib
import os


def _stat(pid: int) -> tuple[int, str] | None:
    """(ppid, state) of ``pid``, None if it is gone."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), fields[0]
    return None


def descendants(root: int) -> list[int]:
    """Live (not zombie) processes below ``root``, children and grandchildren alike."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None and stat[1] != "Z":
                parents[int(name)] = stat[0]
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == pid]
        found.extend(kids)
        frontier.extend(kids)
    return found


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode(errors="replace")
    return ""


def warm_pids(root: int) -> list[int]:
    """The warm process(es) below ``root`` (its forks share its command line, so only the
    direct children of ``root`` are looked at)."""
    return [
        pid
        for pid in descendants(root)
        if _stat(pid) is not None
        and _stat(pid)[0] == root  # type: ignore[index]
        and "asgi_dashboard.runtime.warm" in cmdline(pid)
    ]
