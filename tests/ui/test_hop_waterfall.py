"""The thread-hop waterfall (widgets/hop_waterfall.py) in the request detail's Hops tab: snapshots
at 160x48 and 80x24 of a fixed /hops/-like request, and the rendering rules."""

from __future__ import annotations

from rich.text import Text

from asgi_dashboard.events import Event, FrameInfo, Hop, RequestFinished
from asgi_dashboard.widgets.hop_waterfall import HopWaterfall, hop_label, short_thread
from asgi_dashboard.widgets.palette import Palette
from tests.ui.scripted import MS, T0, main_script, request
from tests.ui.test_snapshots import build, open_row, press, then

US = 1_000
POOL = "ThreadPoolExecutor-3_0"
MW = "django.contrib.sessions.middleware.SessionMiddleware"
HOPS_PY = "/tmp/x/demoapp/hops.py"


def hop_request() -> RequestFinished:
    """An async view behind a sync-only middleware that gathers two sync calls (as /hops/)."""
    hops = (
        Hop("request_started: reset_queries, close_old_connections", "signal", 200 * US,
            900 * US, 700 * US, 60 * US, POOL),
        Hop(f"{MW}.process_request", "middleware", 1100 * US, 1250 * US, 150 * US, 400 * US, POOL),
        Hop("demoapp.hops.LegacyHeaderMiddleware", "middleware", 2 * MS, 2200 * US, 200 * US,
            42 * MS, POOL),
        Hop("demoapp.hops._slow_lookup", "project", 3 * MS, 3400 * US, 400 * US, 30 * MS, POOL,
            FrameInfo(HOPS_PY, 75, "_inner_view", "sync_to_async(_slow_lookup)(_ms(request)),")),
        Hop("demoapp.hops._count_items", "project", 3050 * US, 33500 * US, 30450 * US, 3 * MS,
            POOL, FrameInfo(HOPS_PY, 76, "_inner_view", "sync_to_async(_count_items)(),")),
        Hop(f"{MW}.process_response", "middleware", 45 * MS, 45200 * US, 200 * US, 30 * US, POOL),
        Hop("django.http.response.JsonResponse.close", "other", 46 * MS, 46300 * US, 300 * US,
            280 * US, POOL),
    )  # fmt: skip
    return request(
        40,
        ts=T0 + 20,
        path="/hops/",
        route="hops/",
        view="demoapp.hops.hops_page",
        kind="async",
        total_ns=48 * MS,
        view_ns=44 * MS,
        thread_wait_ns=None,
        sql_count=1,
        sql_ns=1 * MS,
        sync_hops=len(hops),
        hops=hops,
    )


def script() -> list[Event]:
    return [*main_script(), hop_request()]


def test_hop_waterfall_wide(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(script()), terminal_size=(160, 48), run_before=then(open_row("/hops/"), press("4"))
    )


def test_hop_waterfall_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        build(script()), terminal_size=(80, 24), run_before=then(open_row("/hops/"), press("4"))
    )


def _rendered(event: RequestFinished, width: int) -> list[str]:
    text: Text = HopWaterfall(event, Palette()).render_waterfall(width)
    return text.plain.splitlines()


def test_one_line_per_hop_with_bars_on_the_request_axis() -> None:
    event = hop_request()
    lines = _rendered(event, 120)
    assert lines[0].startswith("7 hop(s) on 1 thread(s) · waited 32.4 ms in all, longest 30.4 ms")
    rows = [line for line in lines if "pool-3_0" in line]
    assert len(rows) == len(event.hops) and all(len(row) <= 120 for row in rows)
    count = next(row for row in rows if "_count_items" in row)
    slow = next(row for row in rows if "_slow_lookup" in row)
    assert "(hops.py:76)" in count and "pool-3_0" in count
    # _count_items waited for _slow_lookup: its wait starts where the other's run starts.
    assert count.index("░") == slow.index("█") and count.rindex("░") < count.index("█")
    assert rows[0].startswith("S request_started")  # a signal's name is kept from the start


def test_counted_but_not_kept_hops_are_said() -> None:
    event = hop_request()
    more = RequestFinished(
        **{**{f: getattr(event, f) for f in ("id", "method", "path", "status")}},
        total_ns=event.total_ns,
        sync_hops=70,
        hops=event.hops,
    )
    assert any("63 more hop(s) counted, not kept" in line for line in _rendered(more, 80))


def test_labels_and_threads() -> None:
    hop = hop_request().hops[3]
    assert hop_label(hop) == "demoapp.hops._slow_lookup (hops.py:75)"
    assert short_thread(POOL) == "pool-3_0" and short_thread("") == "?"
