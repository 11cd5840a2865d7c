"""The messages that flow between the app, the main screen and its widgets (message_hook).

The app posts one ``MainScreen.EventsIngested`` per flushed batch carrying the model's
ChangeSet; it stops at the screen (no round trip back to the app). Widgets post intent (a filter,
a row opened) and the screen acts on it.
"""

from __future__ import annotations

from collections import Counter

from textual.message import Message

from asgi_dashboard.events import MiddlewareAudit, ReloadWatching
from asgi_dashboard.model import ChangeSet
from asgi_dashboard.screens.detail import RequestDetailScreen
from asgi_dashboard.screens.main import MainScreen
from asgi_dashboard.widgets.filter_bar import FilterBar
from asgi_dashboard.widgets.request_log import RequestLog
from tests.ui.conftest import plain, settle
from tests.ui.scripted import T0, main_script
from tests.ui.test_main_screen import SIZE, build, paths


class Recorder:
    """A message_hook: every message dispatched anywhere, in order (one entry per pump)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.messages.append(message)

    def of(self, kind: type[Message]) -> list[Message]:
        return [m for m in self.messages if isinstance(m, kind)]


async def test_each_batch_reaches_the_screen_once_as_a_change_set() -> None:
    audit = MiddlewareAudit(ts=T0 + 1, entries=())
    watching = ReloadWatching(roots=("/tmp/x",), includes=("*.py",), excludes=(".git/",))
    app = build([watching, *main_script(), audit])
    seen = Recorder()
    async with app.run_test(size=SIZE, message_hook=seen) as pilot:
        await settle(pilot)
        ingested = seen.of(MainScreen.EventsIngested)
        assert ingested
        # Dispatched once each: at the screen, never bubbling back to the app.
        assert set(Counter(id(m) for m in ingested).values()) == {1}
        changes = [m.changes for m in ingested if isinstance(m, MainScreen.EventsIngested)]
        assert all(isinstance(c, ChangeSet) for c in changes)
        assert sum(len(c.new_items) for c in changes) == len(app.model.history)
        assert [c.audit for c in changes if c.audit] == [audit]
        assert app.model.audit is audit and app.latest_audit is audit
        assert any(c.watching_changed for c in changes)
        await pilot.press("5")
        header = plain(app.main_screen.query_one("#reload-watch"))
        assert header.startswith("Watching /tmp/x") and "folders .git" in header


async def test_filter_intent_flows_up_and_the_screen_refilters() -> None:
    app = build()
    seen = Recorder()
    async with app.run_test(size=SIZE, message_hook=seen) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"status:5xx")
        await pilot.pause()
        changed = [m for m in seen.of(FilterBar.Changed) if isinstance(m, FilterBar.Changed)]
        assert changed[-1].filter.text == "status:5xx"
        assert app.main_screen.filter.text == "status:5xx"
        assert paths(app) == ["/async/broken/"]


async def test_opening_a_row_posts_opened_and_the_screen_shows_it() -> None:
    app = build()
    seen = Recorder()
    async with app.run_test(size=SIZE, message_hook=seen) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        opened = [m for m in seen.of(RequestLog.Opened) if isinstance(m, RequestLog.Opened)]
        assert opened
        screen = app.screen
        assert isinstance(screen, RequestDetailScreen)
        assert screen.entry is opened[0].item.entry
