"""The listening socket: bound once by the parent and shared with every server generation.

Kept apart from :mod:`.server` so the parent can bind (and report a port in use) without
importing Uvicorn, which costs ~50 ms of start-up before the child is even spawned.
"""

from __future__ import annotations

import errno
import socket


class BindError(Exception):
    """The address could not be bound; the message says what to do."""


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen once; the socket is then shared with every server generation."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says it is TCP (asyncio.base_events._set_nodelay); without it every
    # response's second write waits for a delayed ACK (measured: 160 -> 355 req/s in-process).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            from ..portowner import describe_port_owner  # only now: it scans /proc

            raise BindError(
                f"Port {port} on {host} is in use{describe_port_owner(port)}: stop what is "
                f"using it, or run with --port {port + 1} (or --port 0 for any free port)."
            ) from None
        if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
            raise BindError(
                f"Cannot listen on {host}:{port} ({exc.strerror}): pick another --host or --port."
            ) from None
        raise BindError(f"Cannot listen on {host}:{port}: {exc}.") from None
    except (OverflowError, socket.gaierror) as exc:
        sock.close()
        raise BindError(f"Cannot listen on {host}:{port}: {exc}.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    # Non-blocking for good. O_NONBLOCK belongs to the open file description, which every server
    # process (and the dashboard's crash stand-in, runtime/crash.py) shares, and a socket object
    # in blocking mode clears it on any dup() (socket.dup() copies the timeout). Cleared while
    # another process's asyncio loop accepts on it, that loop blocks inside accept() (measured:
    # the dashboard's loop froze and stopped reading events). Every process keeps it non-blocking.
    sock.setblocking(False)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
