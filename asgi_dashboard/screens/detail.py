"""Request detail: timing breakdown, headers, query, bodies, SQL, the exception, and curl.

Opened from the request log (enter or click). Everything shown comes from the one
:class:`~asgi_dashboard.events.RequestFinished` (or the WebSocket row) it was opened with.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from ..events import ExceptionInfo, RequestFinished
from ..formatting import clock, curl_command, duration, size, status_class
from ..model import WsConnection
from ..sqlgroups import n_plus_one_text
from ..widgets.detail_parts import (
    body_view,
    error_view,
    headers_table,
    query_table,
    sql_table,
    status_phrase,
)
from ..widgets.footer import StableFooter
from ..widgets.hop_waterfall import HopWaterfall
from ..widgets.palette import Palette
from ..widgets.timing_bar import TimingBar
from ..widgets.ws_forms import websocat_command
from ..widgets.ws_views import render_segment_end, render_server_frame


class RequestDetailScreen(Screen[None]):
    """Everything about one request."""

    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back"),
        Binding("c", "copy_curl", "Copy as curl"),
        Binding("E", "app.open_in_editor", "Editor"),
        Binding("t", "app.write_test", "Write test", show=False),
        # The same key on a WebSocket connection (check_action shows the one that applies).
        Binding("c", "copy_websocat", "Copy websocat"),
        Binding("1", "show_tab(0)", "First tab", show=False),
        Binding("2", "show_tab(1)", show=False),
        Binding("3", "show_tab(2)", show=False),
        Binding("4", "show_tab(3)", show=False),
        Binding("5", "show_tab(4)", show=False),
        Binding("6", "show_tab(5)", show=False),
    ]

    def __init__(
        self, entry: RequestFinished | WsConnection, base_url: str, palette: Palette
    ) -> None:
        super().__init__(id="detail")
        self.entry = entry
        self.base_url = base_url
        self.palette = palette
        self.curl = curl_command(entry, base_url) if isinstance(entry, RequestFinished) else ""
        self.websocat = (
            ""
            if isinstance(entry, RequestFinished)
            else websocat_command(entry.path, entry.query, entry.request_headers, base_url)
        )

    def compose(self) -> ComposeResult:
        e, p = self.entry, self.palette
        yield Static(self._summary(), id="detail-summary")
        if isinstance(e, RequestFinished):
            yield TimingBar(e, p, id="timing-bar")
            yield from self._request_tabs(e)
        else:
            yield from self._ws_tabs(e)
        yield StableFooter(compact=True)

    def _summary(self) -> str:
        e, p = self.entry, self.palette
        target = e.path + (f"?{e.query}" if e.query else "")
        if isinstance(e, RequestFinished):
            st = f"[{p.status(e.status)}]{e.status} {status_phrase(e.status)}[/]"
            kind = "static" if e.static else (e.kind or "no view")
            who = e.view or ("static file" if e.static else "no view matched")
            lines = [
                f"[bold]{e.method} {_esc(target)}[/]  →  {st}",
                f"[bold]{_esc(who)}[/] [{p.kind(kind)}]{kind}[/]"
                + (f"   route [b]{_esc(e.route)}[/b]" if e.route else "")
                + (f"   url name {e.url_name}" if e.url_name else ""),
                f"[{p.muted}]{clock(e.ts)} · {size(e.response_size)} · id {e.id} · generation "
                f"{e.generation} · client {e.client or '-'} · {e.sync_hops} sync hop(s)[/]",
            ]
            if e.answered_by:
                lines.insert(
                    2,
                    f"[{p.warning}]answered by {_esc(e.answered_by)}[/]"
                    f"[{p.muted}]: the view did not run[/]",
                )
            lines += [f"[bold {p.warning}]{_esc(n_plus_one_text(n))}[/]" for n in e.n_plus_one]
        else:
            status = 101 if e.accepted else e.status
            state = _ws_state(e)
            lines = [
                f"[bold]WS {_esc(target)}[/]  →  [{p.status(status)}]"
                f"{(status_class(status) and status) or 'handshake'}[/]  {state}",
                f"[bold]{_esc(e.consumer or 'no consumer')}[/] [{p.kind('ws')}]ws[/]",
                f"[{p.muted}]{clock(e.ts)} · {duration(e.duration_ns) if e.closed else 'open'} · "
                f"{e.frames_in} frames in, {e.frames_out} out · id {e.id}[/]",
            ]
        return "\n".join(lines)

    def _message_parts(
        self,
        which: str,
        headers: tuple[tuple[str, str], ...],
        body: str,
        b64: bool,
        truncated: bool,
        *,
        query: str = "",
    ) -> ComposeResult:
        """Headers, query parameters (requests only) and body of one side of the exchange."""
        p = self.palette
        yield Static("[b]Headers[/b]", classes="section")
        yield Static(headers_table(headers, p), id=f"{which}-headers")
        if query:
            yield Static("[b]Query parameters[/b]", classes="section")
            yield Static(query_table(query, p), id="query-params")
        yield Static("[b]Body[/b]", classes="section")
        yield Static(body_view(body, headers, p, b64=b64, truncated=truncated), id=f"{which}-body")

    def _error_tab(self, error: ExceptionInfo | None) -> ComposeResult:
        """The Error tab, first, when the request or connection ended in an exception."""
        if error is not None:
            with TabPane("Error", id="tab-error"), VerticalScroll():
                yield Static(error_view(error, self.palette), id="error-view")

    def _request_tabs(self, e: RequestFinished) -> ComposeResult:
        p = self.palette
        initial = "tab-error" if e.error is not None else "tab-request"
        with TabbedContent(initial=initial, id="detail-tabs"):
            yield from self._error_tab(e.error)
            with TabPane("Request", id="tab-request"), VerticalScroll():
                yield from self._message_parts(
                    "request",
                    e.request_headers,
                    e.request_body,
                    e.request_body_b64,
                    e.request_body_truncated,
                    query=e.query,
                )
            with TabPane("Response", id="tab-response"), VerticalScroll():
                yield from self._message_parts(
                    "response",
                    e.response_headers,
                    e.response_body,
                    e.response_body_b64,
                    e.response_body_truncated,
                )
            with TabPane(f"SQL ({e.sql_count})", id="tab-sql"), VerticalScroll():
                yield Static(sql_table(e, p), id="sql-view")
            if e.hops:  # the thread-hop timeline (widgets/hop_waterfall.py)
                with TabPane(f"Hops ({e.sync_hops})", id="tab-hops"), VerticalScroll():
                    yield HopWaterfall(e, p, id="hop-waterfall")
            with TabPane("curl", id="tab-curl"), VerticalScroll():
                yield Static(_esc(self.curl), id="curl-command")
                yield Static(f"[{p.muted}]c copies this command to the clipboard[/]")

    def _ws_tabs(self, e: WsConnection) -> ComposeResult:
        p = self.palette
        initial = "tab-error" if e.error is not None else "tab-frames"
        with TabbedContent(initial=initial, id="detail-tabs"):
            yield from self._error_tab(e.error)
            frames = f"Frames ({e.frames_in + e.frames_out})"
            with TabPane(frames, id="tab-frames"), VerticalScroll():
                yield Static(self._frames_view(e), id="frames-view")
            with TabPane("Handshake", id="tab-request"), VerticalScroll():
                yield Static("[b]Headers[/b]", classes="section")
                yield Static(headers_table(e.request_headers, p), id="request-headers")
                if e.reason:
                    yield Static(f"Close reason: {_esc(e.reason)}")
            with TabPane("websocat", id="tab-websocat"), VerticalScroll():
                yield Static(_esc(self.websocat), id="websocat-command")
                yield Static(
                    f"[{p.muted}]c copies this command (curl cannot send WebSocket frames)[/]"
                )

    def _frames_view(self, e: WsConnection) -> RenderableType:
        """The server's record of the connection's frames, then how it ended."""
        p = self.palette
        model = getattr(self.app, "model", None)
        conn = model.ws.connections.get(e.id) if model is not None else None
        if conn is None:
            return Text("No frames recorded (the connection is older than the history).", p.muted)
        parts = [render_server_frame(frame, p) for frame in conn.frames]
        parts += render_segment_end(conn, p)
        return Group(*parts) if parts else Text("No frames.", p.muted)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_curl":
            return bool(self.curl)
        if action == "copy_websocat":
            return bool(self.websocat)
        return True

    def action_copy_websocat(self) -> None:
        self.app.copy_to_clipboard(self.websocat)
        self.query_one(TabbedContent).active = "tab-websocat"
        self.notify("websocat command copied to the clipboard", timeout=2)

    def action_copy_curl(self) -> None:
        if not self.curl:
            self.notify("WebSocket connections cannot be copied as curl", severity="warning")
            return
        self.app.copy_to_clipboard(self.curl)
        self.query_one(TabbedContent).active = "tab-curl"
        self.notify("curl command copied to the clipboard", timeout=2)

    def action_show_tab(self, index: int) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane) if pane.id]
        if 0 <= index < len(panes):
            tabs.active = panes[index]


def _ws_state(e: WsConnection) -> str:
    """How the connection ended, as on the wire (HTTP status for a rejected handshake)."""
    if e.accepted is False:
        return f"rejected with HTTP {e.status or 403}"
    if not e.closed:
        return "open"
    side = "server (consumer raised)" if e.by == "error" else e.by or "?"
    return f"closed by {side} (code {e.code})"


def _esc(text: str | None) -> str:
    # Content markup: escape "[" so paths and SQL are never read as markup.
    return (text or "").replace("[", r"\[")
