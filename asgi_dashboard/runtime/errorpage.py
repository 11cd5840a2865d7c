"""The tiny ASGI app served while the project is broken, and a prompt WebSocket "service restart".

While an edit has broken the project (syntax error, import error, bad settings), the failed
server process keeps serving this app on the shared socket until the next reload, so a browser
gets a readable page (status 500, the error and, in DEBUG or when DEBUG is unknown, the
traceback) instead of "connection refused". It needs nothing from Django.

:func:`shut_down_connections` is called the moment a generation is told to stop. Uvicorn's own
shutdown (``Server.shutdown``) only runs at the next ``main_loop`` tick (up to 0.1 s later), and
its websockets-sansio ``shutdown()`` sends close code 1012 without a reason
(``uvicorn/protocols/websockets/websockets_sansio_impl.py``). Doing it here makes the old
generation let go of its WebSockets at once, and the client sees 1012 "service restart".
"""

from __future__ import annotations

import html
from typing import Any

from ..events import ExceptionInfo

CLOSE_SERVICE_RESTART = 1012


def render_error_page(message: str, error: ExceptionInfo | None, show_traceback: bool) -> str:
    where = ""
    if error is not None and error.frame is not None:
        f = error.frame
        where = f"<p class=where>{html.escape(f.filename)}, line {f.lineno}</p>"
        if f.line:
            # A SyntaxError's column gets Python's caret under the line.
            caret = "\n" + " " * (f.offset - 1) + "^" if f.offset else ""
            where += f"<pre class=line>{html.escape(f.line)}{caret}</pre>"
    tb = ""
    if show_traceback and error is not None and error.traceback:
        tb = f"<h2>Traceback</h2><pre>{html.escape(error.traceback)}</pre>"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Project failed to load</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "pre{background:#f4f4f4;padding:1em;overflow:auto}.where{color:#a00}</style></head>"
        "<body><h1>The project failed to load</h1>"
        f"<p>{html.escape(message)}</p>{where}{tb}"
        "<p>asgi-dash keeps watching: save a fix and the server comes back by itself.</p>"
        "</body></html>"
    )


def render_crash_page(
    *,
    generation: int,
    pid: int,
    how: str,
    stderr_tail: tuple[str, ...],
    restart_in_s: float | None,
    crash_loop: bool,
) -> str:
    """The 503 page the dashboard serves while the server process it lost is not back yet."""
    tail = ""
    if stderr_tail:
        tail = "<h2>Last lines on stderr</h2><pre>" + html.escape("\n".join(stderr_tail)) + "</pre>"
    if crash_loop:
        todo = (
            "<p class=where>It crashed again right after starting, several times in a row, so "
            "asgi-dash stopped restarting it.</p><p>Fix the cause and save a file, or press "
            "<b>r</b> in the dashboard to try again. The console shows its output.</p>"
        )
    elif restart_in_s is not None:
        todo = (
            f"<p>asgi-dash restarts it by itself in {restart_in_s:g} s: reload this page in a "
            "moment. The console shows its output.</p>"
        )
    else:
        todo = "<p>Press <b>r</b> in the dashboard to start it again.</p>"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>Server crashed</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}"
        "pre{background:#f4f4f4;padding:1em;overflow:auto}.where{color:#a00}</style></head>"
        "<body><h1>The server crashed</h1>"
        f"<p class=where>The server process (pid {pid}, generation {generation}) exited "
        f"unexpectedly: {html.escape(how)}.</p>{todo}{tail}"
        "</body></html>"
    )


def make_error_app(message: str, error: ExceptionInfo | None, show_traceback: bool) -> Any:
    """An ASGI app that answers every HTTP request with the error page (status 500)."""
    body = render_error_page(message, error, show_traceback).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1011, "reason": "project broken"})

    return app


def shut_down_connections(server: Any) -> None:
    """Close open WebSockets with 1012 "service restart" now, not at the next shutdown tick.

    HTTP connections are left to Uvicorn's own shutdown (at most 0.1 s later): closing an
    "idle" one now could drop a connection whose request bytes have not been read yet, and
    in-flight requests finish within ``timeout_graceful_shutdown`` anyway.
    """
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    except ImportError:  # older Uvicorn: its own shutdown() still sends 1012
        return
    state = getattr(server, "server_state", None)
    for conn in list(state.connections) if state is not None else []:
        if (
            isinstance(conn, WebSocketsSansIOProtocol)
            and conn.handshake_complete
            and not conn.close_sent
        ):
            # The same steps as WebSocketsSansIOProtocol.shutdown(), plus a reason.
            conn.stop_keepalive()
            conn.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_SERVICE_RESTART})
            conn.conn.send_close(CLOSE_SERVICE_RESTART, "service restart")
            conn.transport.write(b"".join(conn.conn.data_to_send()))
            conn.close_sent = True
            conn.transport.close()
