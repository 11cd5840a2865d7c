"""A minimal host app for the WebSocket panel in tests (the real app mounts it in a tab)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from asgi_dashboard.widgets.ws_panel import WebSocketPanel

CSS = Path(__file__).resolve().parents[2] / "asgi_dashboard" / "ws_panel.tcss"


class PanelApp(App[None]):
    CSS_PATH = str(CSS)

    def __init__(self, server_url: str | None = "http://127.0.0.1:8000") -> None:
        super().__init__()
        self.server_url = server_url

    def compose(self) -> ComposeResult:
        yield WebSocketPanel(server_url=self.server_url, discover=False, id="ws")
