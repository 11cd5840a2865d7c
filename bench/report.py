"""Results as Markdown tables (readable in a terminal too) and the run's environment header."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .projects import REPO


def markdown_table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    cols = [max(len(r[i]) for r in rows) for i in range(width)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, cols, strict=True)) + " |"
             for row in rows]  # fmt: skip
    lines.insert(1, "| " + " | ".join("-" * w for w in cols) + " |")
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=True,
        )  # fmt: skip
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "-"


def environment(tool: str, mode: str) -> str:
    load = os.getloadavg()
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("django", "uvicorn", "channels", "websockets", "textual", "httpx")
    )
    return "\n".join(
        [
            f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- run: {mode}; load generator: {tool}",
            f"- machine: {os.cpu_count()} cores, {_cpu_model()}, Linux {platform.release()}; "
            f"load average at start {load[0]:.2f}",
            f"- Python {platform.python_version()}; {versions}; asgi-dash {_commit()}",
        ]
    )
