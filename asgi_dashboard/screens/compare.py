"""Compare one or two views under concurrency: the probe with a side-by-side table.

Pick URLs (suggested from the routes the dashboard has seen), N and C, run: the probe
(:mod:`asgi_dashboard.diagnostics.probe`) runs in a named worker; when it is done the screen
waits briefly (bounded) for the server's request events of the run, matched by the probe's
marker header, and adds what the server measured (view, thread wait, SQL, hops).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

import httpx
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Footer, Input, Static

from ..diagnostics.probe import (
    DEFAULT_CONCURRENCY,
    DEFAULT_REQUESTS,
    ProbeConfig,
    ProbeRefused,
    ProbeResult,
    attach_server_events,
    probe_marker,
    run_probe,
)
from ..diagnostics.probe_text import column_label, histogram_rows, metric_rows
from ..events import Event, RequestFinished

#: Seconds to wait after the run for its server-side events to reach the dashboard.
EVENTS_WAIT = 3.0


def route_urls(base_url: str, routes: Iterable[str]) -> list[str]:
    """Full URLs for routes without converters (``polls/<int:pk>/`` needs a value)."""
    base = base_url.rstrip("/")
    return [f"{base}/{r.lstrip('/')}" for r in routes if "<" not in r]


class CompareScreen(Screen[None]):
    """Probe form, side-by-side results and a latency histogram."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+r", "run", "Run probe"),
    ]

    class ProbeFinished(Message):
        """A run finished (with server-side figures when its events arrived)."""

        def __init__(self, result: ProbeResult) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        base_url: str,
        routes: Sequence[str] = (),
        events: Callable[[], Iterable[Event]] = tuple,
        *,
        urls: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        events_wait: float = EVENTS_WAIT,
    ) -> None:
        super().__init__(id="compare")
        self.base_url = base_url
        self.suggestions = route_urls(base_url, routes)
        self.initial = list(urls) or self.suggestions[:2]
        self.events = events
        self.transport = transport
        self.events_wait = events_wait
        self.result: ProbeResult | None = None

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(self.suggestions, case_sensitive=False)
        first = self.initial[0] if self.initial else self.base_url.rstrip("/") + "/"
        second = self.initial[1] if len(self.initial) > 1 else ""
        with Horizontal(id="compare-form"):
            yield Input(first, placeholder="URL", id="url-a", suggester=suggester)
            yield Input(
                second, placeholder="second URL (optional)", id="url-b", suggester=suggester
            )
            yield Input(str(DEFAULT_REQUESTS), type="integer", id="requests", tooltip="N")
            yield Input(str(DEFAULT_CONCURRENCY), type="integer", id="concurrency", tooltip="C")
            yield Button("Run", id="run", variant="primary")
        yield Static(
            "N requests at concurrency C per URL, one URL after the other.", id="compare-status"
        )
        yield DataTable(id="compare-table", cursor_type="none", zebra_stripes=True)
        with VerticalScroll(id="compare-histogram-box"):
            yield Static(id="compare-histogram")
        yield Footer()

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def config(self) -> ProbeConfig:
        urls = tuple(u for u in (self._value("#url-a"), self._value("#url-b")) if u)
        try:
            n, c = int(self._value("#requests")), int(self._value("#concurrency"))
        except ValueError:
            raise ProbeRefused("N and C must be whole numbers") from None
        config = ProbeConfig(urls=urls, requests=n, concurrency=c)
        config.validate()
        return config

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        status = self.query_one("#compare-status", Static)
        try:
            config = self.config()
        except ProbeRefused as exc:
            status.update(f"[b red]Not run:[/] {exc}")
            return
        status.update(f"Running {config.requests} x {len(config.urls)} requests…")
        self.run_probe(config)

    def _progress(self, index: int, done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            self.query_one("#compare-status", Static).update(
                f"URL {index + 1}: {done}/{total} requests…"
            )

    @work(exclusive=True, name="run_probe", group="probe", exit_on_error=False)
    async def run_probe(self, config: ProbeConfig) -> None:
        result = await run_probe(config, transport=self.transport, on_progress=self._progress)
        result = await self._with_server_events(result)
        self.show_result(result)
        self.post_message(self.ProbeFinished(result))

    async def _with_server_events(self, result: ProbeResult) -> ProbeResult:
        expected = sum(len(r.latencies_ns) for r in result.results)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.events_wait
        while True:
            events = list(self.events())
            seen = sum(
                1
                for e in events
                if isinstance(e, RequestFinished)
                and (probe_marker(e) or "").startswith(result.run_id + ":")
            )
            if seen >= expected or loop.time() >= deadline:
                return attach_server_events(result, events)
            await asyncio.sleep(0.1)

    def show_result(self, result: ProbeResult) -> None:
        self.result = result
        table = self.query_one("#compare-table", DataTable)
        table.clear(columns=True)
        labels = [column_label(result, r) for r in result.results]
        table.add_columns("", *labels)
        per_url = [dict(metric_rows(r)) for r in result.results]
        names: list[str] = []
        for r in result.results:
            names += [n for n, _ in metric_rows(r) if n not in names]
        for name in names:
            table.add_row(name, *(values.get(name, "-") for values in per_url))
        lines = ["latency histogram   " + "   ".join(labels)]
        lines += ["  ".join(row) for row in histogram_rows(result)]
        self.query_one("#compare-histogram", Static).update("\n".join(lines))
        errors = sum(r.errors for r in result.results)
        self.query_one("#compare-status", Static).update(
            f"Run {result.run_id}: {result.requests} requests per URL at concurrency "
            f"{result.concurrency}" + (f", [b red]{errors} error(s)[/]" if errors else "")
        )
