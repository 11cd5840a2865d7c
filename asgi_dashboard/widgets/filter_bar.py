"""The filter bar: an input for the filter language and a line that says what it matched or
what is wrong with it. Parsing lives in :mod:`asgi_dashboard.filters`; this widget only reports
a valid :class:`~asgi_dashboard.filters.Filter` upward (invalid text keeps the last committed
valid filter, :class:`~asgi_dashboard.filters.FilterEdit`).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from ..filters import Filter, FilterEdit

PLACEHOLDER = (
    "filter: text  status:5xx  kind:async  view:polls  method:POST  slow:>200ms  sql:>10  ws  error"
)


class FilterBar(Horizontal):
    """Filter input + feedback."""

    class Changed(Message):
        """A new valid filter was entered."""

        def __init__(self, filter: Filter) -> None:
            super().__init__()
            self.filter = filter

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.editing = FilterEdit()

    @property
    def filter(self) -> Filter:
        """The filter applied to the log (the last valid one while the text is invalid)."""
        return self.editing.applied

    @property
    def error(self) -> str | None:
        return self.editing.error

    def compose(self) -> ComposeResult:
        yield Input(placeholder=PLACEHOLDER, id="filter-input", compact=True)
        yield Static("", id="filter-feedback")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @on(Input.Changed, "#filter-input")
    def _text_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.apply_text(event.value)

    @on(Input.Submitted, "#filter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_text(event.value)
        self.editing.commit()

    @on(Input.Blurred, "#filter-input")
    def _blurred(self, event: Input.Blurred) -> None:
        event.stop()
        self.editing.commit()

    def apply_text(self, text: str) -> None:
        changed = self.editing.edit(text)
        self.set_class(self.editing.error is not None, "-invalid")
        self.query_one("#filter-feedback", Static).update(self.editing.feedback)
        if changed:
            self.post_message(self.Changed(self.editing.applied))

    def show_summary(self, summary: str) -> None:
        """What the filter matched (shown when the text is valid)."""
        if self.error is None:
            self.query_one("#filter-feedback", Static).update(summary)
