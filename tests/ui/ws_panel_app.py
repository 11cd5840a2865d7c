"""A minimal host app for the WebSocket panel in tests (the real app mounts it in a tab)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from asgi_dashboard.model import Dashboard
from asgi_dashboard.widgets.ws_panel import WebSocketPanel


class PanelApp(App[None]):
    def __init__(self, server_url: str | None = "http://127.0.0.1:8000") -> None:
        super().__init__()
        self.server_url = server_url
        #: The model the panel's server-side records belong to (tests feed it event batches).
        self.model = Dashboard()

    def compose(self) -> ComposeResult:
        yield WebSocketPanel(
            server_url=self.server_url, records=self.model.ws, discover=False, id="ws"
        )
