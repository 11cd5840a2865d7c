"""A crash and what follows it, as the status bar, the console and the headless printer say it."""

from __future__ import annotations

from asgi_dashboard.events import ServerStarted, ServerStopped
from asgi_dashboard.formatting import crash_next_step
from asgi_dashboard.headless import format_event
from asgi_dashboard.model import ServerStatus
from asgi_dashboard.widgets.status_bar import StatusBar

SCHEDULED = ServerStopped(pid=7, generation=1, signal="SIGKILL", reason="crashed", restart_in_s=0.5)
LOOPING = ServerStopped(pid=8, generation=1, exit_code=9, reason="crashed", crash_loop=True)


def test_next_step_says_when_or_whether_the_server_restarts() -> None:
    assert crash_next_step(SCHEDULED) == "restarting in 0.5 s"
    assert "not restarting until a file is saved or r" in crash_next_step(LOOPING)
    assert crash_next_step(ServerStopped(pid=1, reason="crashed")) == "press r to restart"


def test_status_bar_shows_the_restart_and_forgets_it_once_running() -> None:
    status = ServerStatus()
    status.apply(ServerStarted(url="http://x", pid=7, mode="child", host="h", port=1, generation=1))
    bar = StatusBar(clock=lambda: 0.0)
    bar.status = status
    assert status.apply(SCHEDULED) and status.state == "crashed"
    assert "crashed (restarting in 0.5 s)" in bar.render_status().plain
    status.apply(LOOPING)
    assert "crash loop" in bar.render_status().plain
    status.apply(ServerStarted(url="http://x", pid=9, mode="child", host="h", port=1, generation=2))
    assert status.crash is None and "crash" not in bar.render_status().plain


def test_headless_line_says_what_happens_next() -> None:
    line = format_event(SCHEDULED)
    assert line is not None and "crashed, signal SIGKILL" in line and "restarting in 0.5 s" in line


def test_a_request_cut_by_a_reload_is_not_counted_as_an_error() -> None:
    from asgi_dashboard.events import RequestFinished

    status = ServerStatus()
    cut = RequestFinished(id="1-1", method="GET", path="/slow/", status=503, cancelled="reload")
    failed = RequestFinished(id="1-2", method="GET", path="/boom/", status=500)
    status.apply(cut)
    status.apply(failed)
    assert status.requests == 2 and status.errors == 1
