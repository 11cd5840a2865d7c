"""``MiddlewareAuditView``: the project's MIDDLEWARE as Django's async handler runs it.

Shows one :class:`~asgi_dashboard.events.MiddlewareAudit`: a summary line (hops and switches
per request and what they cost, from :func:`asgi_dashboard.diagnostics.audit.summary`), a table
outermost first, and the fix for the highlighted entry. Data flows down through :meth:`show`.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ..diagnostics.audit import summary
from ..events import MiddlewareAudit, MiddlewareInfo

COLUMNS = ("middleware", "declares", "runs", "adapted", "hops", "switches", "hooks")


class MiddlewareAuditView(Vertical):
    """Summary, per-entry table and the selected entry's fix."""

    def __init__(self, audit: MiddlewareAudit | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.audit = audit

    def compose(self) -> ComposeResult:
        yield Static(id="audit-summary")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="audit-fix")

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).add_columns(*COLUMNS)
        self.show(self.audit)

    def show(self, audit: MiddlewareAudit | None) -> None:
        self.audit = audit
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        if audit is None:
            self.query_one("#audit-summary", Static).update(
                "No middleware audit yet: it arrives once the server has started."
            )
            self.query_one("#audit-fix", Static).update("")
            return
        head = summary(audit)
        if not audit.debug:
            head += "\nDjango logs these adaptations only at DEBUG level; here they are always."
        if audit.error:
            head += f"\nIncomplete: {audit.error}"
        self.query_one("#audit-summary", Static).update(head)
        for i, d in enumerate(audit.details):
            table.add_row(*self._cells(d), key=str(i))
        self._show_fix(audit.details[0] if audit.details else None)

    @staticmethod
    def _cells(d: MiddlewareInfo) -> list[Text | str]:
        declares = Text(d.capability, style="bold red" if d.capability == "sync" else "")
        return [
            d.path,
            declares,
            d.runs_as,
            Text("yes", style="bold yellow") if d.adapted else "",
            str(d.hops),
            str(d.switches) if d.switches else "",
            ", ".join(h.removeprefix("process_") for h in d.hooks),
        ]

    def _show_fix(self, d: MiddlewareInfo | None) -> None:
        if d is None:
            text = ""
        elif d.fix:
            text = f"{d.path}: {d.fix}"
        elif d.hops:
            text = f"{d.path}: Django's own; its {d.hops} hop(s) per request come with it."
        else:
            text = f"{d.path}: no thread hops per request."
        self.query_one("#audit-fix", Static).update(text)

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.audit is not None and event.row_key.value is not None:
            self._show_fix(self.audit.details[int(event.row_key.value)])
