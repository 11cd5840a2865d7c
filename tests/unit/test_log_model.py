"""Derived log and status state (model.status.fit_status, model.rows): pure, no Textual."""

from __future__ import annotations

from asgi_dashboard.model.status import STATUS_DROP_ORDER, fit_status

FIELDS = [
    ("state", 9),
    ("url", 22),
    ("mode", 12),
    ("pid", 9),
    ("uptime", 7),
    ("restarts", 10),
    ("requests", 12),
    ("errors", 8),
    ("loop_lag", 14),
    ("versions", 30),
]
SEP = 3


def width_of(keys: list[str]) -> int:
    cells = dict(FIELDS)
    return sum(cells[k] for k in keys) + SEP * (len(keys) - 1)


def test_everything_fits_when_wide() -> None:
    assert fit_status(FIELDS, 200, SEP) == [k for k, _ in FIELDS]


def test_fields_drop_in_order_until_it_fits() -> None:
    full = width_of([k for k, _ in FIELDS])
    assert fit_status(FIELDS, full - 1, SEP) == [k for k, _ in FIELDS if k != "versions"]
    kept = fit_status(FIELDS, 78, SEP)
    assert width_of(kept) <= 78
    assert kept == ["state", "url", "requests", "errors", "loop_lag"]


def test_order_of_fields_is_kept_and_state_never_dropped() -> None:
    kept = fit_status(FIELDS, 5, SEP)
    assert kept == ["state"]
    assert "state" not in STATUS_DROP_ORDER


def test_unknown_fields_such_as_notices_are_kept() -> None:
    fields = [("state", 9), ("notice0", 40), ("versions", 30)]
    assert fit_status(fields, 50, SEP) == ["state", "notice0"]


def test_empty_log_hint_names_url_curl_and_demo_views() -> None:
    from asgi_dashboard.model.rows import empty_log_hint

    plain = empty_log_hint("http://127.0.0.1:8000", is_demo=False)
    assert plain[1].strip() == "curl -i http://127.0.0.1:8000/"
    assert not any("orm/" in line for line in plain)
    demo = empty_log_hint("http://127.0.0.1:8000/", is_demo=True)
    assert any("http://127.0.0.1:8000/orm/n-plus-one/" in line for line in demo)
    assert empty_log_hint(None, is_demo=True) == [
        "No requests yet: waiting for the server to start."
    ]


def test_in_order_sorts_by_start_time_then_sequence() -> None:
    from asgi_dashboard.model.rows import LogItem, in_order
    from tests.ui.scripted import T0, request

    items = [
        LogItem(1, request(1, ts=T0 + 2)),
        LogItem(2, request(2, ts=T0 + 1)),
        LogItem(3, request(3, ts=T0 + 1)),
    ]
    assert [i.seq for i in in_order(items, "start")] == [2, 3, 1]
    assert in_order(items, "finish") == items
