"""The middleware audit screen: hosts :class:`~..widgets.middleware_audit.MiddlewareAuditView`."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..events import MiddlewareAudit
from ..widgets.middleware_audit import MiddlewareAuditView

WIDGET_CSS = Path(__file__).parent.parent / "widgets" / "middleware_audit.tcss"


class MiddlewareAuditScreen(Screen[None]):
    """The latest audit of the running server."""

    CSS_PATH = str(WIDGET_CSS)
    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back")]

    def __init__(self, audit: MiddlewareAudit | None) -> None:
        super().__init__(id="middleware-audit")
        self.audit = audit

    def compose(self) -> ComposeResult:
        yield Static("[b]Middleware audit[/b] (outermost first)", classes="screen-title")
        yield MiddlewareAuditView(self.audit, id="audit-view")
        yield Footer()

    def show(self, audit: MiddlewareAudit) -> None:
        self.audit = audit
        self.query_one(MiddlewareAuditView).show(audit)
