"""Where the collector's Unix socket is: one place for both ends.

``$ASGI_DASH_COLLECT`` names it (``off`` disables the wrapper altogether); else
``$XDG_RUNTIME_DIR/asgi-dash/collect.sock`` (the per-user runtime directory systemd-logind makes
0700; ``/run/user/UID`` when the variable is unset but the folder exists, as for a service), else
a 0700 folder named for the uid under the temp directory. Never a TCP port: a
socket file in a folder only its user can enter is reachable by that user alone.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping

#: The environment variable naming the socket (or ``off``).
ENV = "ASGI_DASH_COLLECT"
#: Linux's ``sun_path`` holds 108 bytes, the terminating NUL included.
MAX_PATH = 107


class SocketPathError(ValueError):
    """The socket's folder cannot be used safely (someone else's, or open to others)."""


def socket_path(environ: Mapping[str, str] | None = None) -> str | None:
    """The collector's socket path, or None when ``ASGI_DASH_COLLECT=off``."""
    env = os.environ if environ is None else environ
    value = env.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return os.path.abspath(os.path.expanduser(value))
    # A service (systemd unit, container entry point) often runs without XDG_RUNTIME_DIR while
    # the user's shell has it: /run/user/UID, where logind makes it, keeps both ends agreeing.
    runtime = env.get("XDG_RUNTIME_DIR", "") or f"/run/user/{os.getuid()}"
    if os.path.isdir(runtime):
        return os.path.join(runtime, "asgi-dash", "collect.sock")
    return os.path.join(tempfile.gettempdir(), f"asgi-dash-{os.getuid()}", "collect.sock")


def private_folder(path: str, *, strict: bool = True) -> None:
    """Make the socket's folder (0700) if missing; refuse one other users could enter.

    An existing folder that is someone else's, or writable by others, could let them put a
    socket of their own where the wrapper looks: the wrapper would send them the traffic.
    ``strict`` False (a path the user named with ``ASGI_DASH_COLLECT``): only the length is
    checked; the socket file itself is still made 0600.
    """
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if len(os.fsencode(path)) > MAX_PATH:
        raise SocketPathError(f"{path} is longer than a Unix socket path may be ({MAX_PATH} bytes)")
    if not strict:
        return
    info = os.stat(folder)
    if info.st_uid != os.getuid():
        raise SocketPathError(f"{folder} belongs to uid {info.st_uid}, not to you")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise SocketPathError(f"{folder} is writable by others: make it 0700")


__all__ = ["ENV", "MAX_PATH", "SocketPathError", "private_folder", "socket_path"]
