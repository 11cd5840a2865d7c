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
from rich.markup import escape
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
    ProbeConfig,
    ProbeRefused,
    ProbeResult,
    attach_server_events,
    probe_marker,
    run_probe,
)
from ..diagnostics.probe_text import column_label, histogram_rows, metric_rows, no_success
from ..events import Event, RequestFinished

#: Seconds to wait after the run for its server-side events to reach the dashboard.
EVENTS_WAIT = 3.0
#: The screen's N: with the demo's sleep views at ?ms=50, a sync view (one worker thread, so
#: one request at a time) takes 50 x 50 ms = 2.5 s, an async one 50 / C x 50 ms = 0.25 s.
COMPARE_REQUESTS = 50
#: The demo's views that sleep ``?ms=`` milliseconds (1000 by default: too long for a probe).
SLEEP_ROUTES = ("sync/", "async/", "cbv/sync/", "cbv/async/")
SLEEP_QUERY = "?ms=50"
TITLE = "Compare views under load"
EXPLAIN = "N requests at concurrency C per URL, one URL after the other (ctrl+r runs)."


def route_urls(base_url: str, routes: Iterable[str]) -> list[str]:
    """Full URLs for routes without converters (``polls/<int:pk>/`` needs a value).

    The demo's sleep views come with ``?ms=50`` so a run finishes in seconds.
    """
    base = base_url.rstrip("/")
    urls = []
    for route in routes:
        if "<" in route:
            continue
        route = route.lstrip("/")
        urls.append(f"{base}/{route}{SLEEP_QUERY if route in SLEEP_ROUTES else ''}")
    return urls


def default_urls(base_url: str, routes: Sequence[str], demo: bool = False) -> list[str]:
    """The two URLs the form starts with: the sync and async sleep views when the project
    has them (the demo, even before any traffic), else the two most requested routes."""
    if demo or {"sync/", "async/"} <= set(routes):
        return route_urls(base_url, ["sync/", "async/"])
    return route_urls(base_url, routes)[:2]


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
        demo: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        events_wait: float = EVENTS_WAIT,
    ) -> None:
        super().__init__(id="compare")
        self.base_url = base_url
        self.suggestions = route_urls(base_url, [*routes, *(SLEEP_ROUTES if demo else ())])
        self.initial = list(urls) or default_urls(base_url, routes, demo)
        self.events = events
        self.transport = transport
        self.events_wait = events_wait
        self.result: ProbeResult | None = None

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(self.suggestions, case_sensitive=False)
        first = self.initial[0] if self.initial else self.base_url.rstrip("/") + "/"
        second = self.initial[1] if len(self.initial) > 1 else ""
        yield Static(f"[b]{TITLE}[/]", id="compare-title")
        with Horizontal(id="compare-form"):
            fields = (
                Input(first, placeholder="URL", id="url-a", suggester=suggester),
                Input(second, placeholder="(optional)", id="url-b", suggester=suggester),
                Input(str(COMPARE_REQUESTS), type="integer", id="requests"),
                Input(str(DEFAULT_CONCURRENCY), type="integer", id="concurrency"),
            )
            for field, label in zip(fields, ("URL A", "URL B", "N", "C"), strict=True):
                field.border_title = label
                yield field
            yield Button("Run", id="run", variant="primary")
        yield Static(EXPLAIN, id="compare-status")
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
        failed = "".join(f"\n[b red]{escape(line)}[/]" for line in no_success(result))
        self.query_one("#compare-status", Static).update(
            f"Run {result.run_id}: {result.requests} requests per URL at concurrency "
            f"{result.concurrency}" + (f", [b red]{errors} error(s)[/]" if errors else "") + failed
        )
