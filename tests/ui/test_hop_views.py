"""The Views tab's hop columns: hops per request and the p95 of the hops' waits for their thread
(stats.ViewAggregate, widgets/view_stats.py)."""

from __future__ import annotations

from asgi_dashboard.stats import ViewAggregate, percentile
from tests.ui.scripted import request
from tests.ui.test_hop_waterfall import hop_request
from tests.ui.test_views_tab import build, column, open_views


def test_hops_per_request_and_hop_wait_p95() -> None:
    agg = ViewAggregate(route="hops/", view="demoapp.hops.hops_page")
    event = hop_request()
    agg.add(event, False)
    agg.add(request(41, sync_hops=3), False)  # counted hops, none kept: no waits
    assert agg.mean_hops == (len(event.hops) + 3) / 2
    waits = sorted(h.wait_ns for h in event.hops)
    assert agg.hop_wait_p(95) == percentile(waits, 95)
    assert ViewAggregate(route="", view="v").hop_wait_p(95) is None


async def test_views_tab_shows_the_hop_columns_at_160() -> None:
    app = build([hop_request()])
    async with app.run_test(size=(160, 48)) as pilot:
        table = await open_views(pilot, app, 8)
        assert not table.narrow and table.medium
        rows = dict(zip(column(table, "view"), column(table, "hops"), strict=True))
        waits = dict(zip(column(table, "view"), column(table, "hop_wait_p95"), strict=True))
        assert rows["demoapp.hops.hops_page"] == "7.0"
        assert waits["demoapp.hops.hops_page"] == "21.52"  # p95 of the seven waits, in ms
        assert waits["polls.views.index"] == "-"  # no hop recorded
        # Every column fits the screen: the last one ends inside the 160 columns.
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= 160
