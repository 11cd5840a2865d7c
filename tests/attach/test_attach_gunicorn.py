"""The attach wrapper in a real deployment: gunicorn, two Uvicorn workers, ``asgi-dash collect``.

The demo's application is wrapped by ``asgi_dashboard.attach`` in a module of its own (the line a
deployment adds) and served by gunicorn with ``uvicorn_worker.UvicornWorker`` on 127.0.0.1; the
collector is the real command (``asgi-dash collect --headless --json``) on a socket in a 0700
temp folder (``ASGI_DASH_COLLECT``). daphne and ``manage.py runworker`` are not covered: daphne
is not installed.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from .support import collector, gunicorn, load, named, short_dir

pytestmark = pytest.mark.slow


def attached_workers(events: list[dict[str, object]]) -> set[object]:
    """Pids attached and not detached since."""
    live: set[object] = set()
    for e in events:
        if e["event"] == "process-attached":
            live.add(e["pid"])
        elif e["event"] == "process-detached":
            live.discard(e["pid"])
    return live


def test_every_request_once_from_both_workers_across_a_collector_restart() -> None:
    with short_dir() as folder:
        sock = folder / "c.sock"
        with gunicorn(folder, sock) as (_gun, port):
            with collector(sock) as (_proc, lines):
                assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
                assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
                # Both workers find the collector within their 1 s retry.
                lines.wait_for(lambda ev: len(attached_workers(ev)) == 2, 20)
                statuses = load(port, 100)
                assert statuses == [200] * 100
                lines.wait_for(lambda ev: len(named(ev, "request")) >= 100, 20)
                events = lines.events()
            # The collector stopped (its socket file goes with it); the workers keep serving.
            assert not sock.exists()
            assert load(port, 20) == [200] * 20
            with collector(sock) as (_proc, lines2):
                lines2.wait_for(lambda ev: len(attached_workers(ev)) == 2, 20)
                assert load(port, 30) == [200] * 30
                lines2.wait_for(lambda ev: len(named(ev, "request")) >= 30, 20)
                events2 = lines2.events()

    requests = named(events, "request")
    assert len(requests) == 100  # exactly one event per request: none lost, none twice
    assert len({r["id"] for r in requests}) == 100
    hellos = named(events, "process-attached")
    pids = {h["pid"] for h in hellos}
    assert {h["worker"] for h in hellos} == {1, 2}
    assert {h["server"] for h in hellos} == {"gunicorn"}
    by_pid = Counter(r["worker_pid"] for r in requests)
    assert set(by_pid) == pids, by_pid  # both workers served, and said which they are
    index = {h["pid"]: h["worker"] for h in hellos}
    assert all(r["worker"] == index[r["worker_pid"]] for r in requests)
    assert all(r["path"] == "/sync/" and r["status"] == 200 for r in requests)
    assert all(r["view"] == "demoapp.views.sync_view" for r in requests)

    # After the restart: the same two processes came back (reconnects > 0), and only the
    # requests made while it listened are there (the 20 in between were not even recorded).
    again = named(events2, "process-attached")
    assert {h["pid"] for h in again} == pids
    assert all(h["reconnects"] >= 1 for h in again)
    # Requests that started before a worker noticed the collector had gone (within its 0.5 s
    # check) were recorded, then dropped and counted; the 30 made after the restart all arrive.
    requests2 = named(events2, "request")
    assert len(requests2) == 30
    assert sum(e["count"] for e in named(events2, "events-dropped")) <= 20


def test_without_a_collector_requests_succeed_and_nothing_is_written(tmp_path: Path) -> None:
    with short_dir() as folder:
        sock_dir = folder / "sockets"
        sock_dir.mkdir(mode=0o700)
        with gunicorn(folder, sock_dir / "c.sock") as (_gun, port):
            assert load(port, 50) == [200] * 50
        assert list(sock_dir.iterdir()) == []


def test_preloaded_app_each_worker_its_own_connection_and_logs_arrive() -> None:
    """``--preload``: the master wraps the application, then forks; each worker still connects
    on its own (the sender starts per process), and a view's error log reaches the collector."""
    with short_dir() as folder:
        sock = folder / "c.sock"
        with gunicorn(folder, sock, preload=True) as (gun, port), collector(sock) as (_, lines):
            lines.wait_for(lambda ev: len(attached_workers(ev)) == 2, 20)
            assert load(port, 20) == [200] * 20
            assert load(port, 1, "/error/") == [500]
            lines.wait_for(lambda ev: len(named(ev, "request")) >= 21, 20)
            lines.wait_for(
                lambda ev: any(e.get("logger") == "django.request" for e in named(ev, "log")),
                10,
            )
            events = lines.events()
    hellos = named(events, "process-attached")
    assert gun.pid not in {h["pid"] for h in hellos}  # the master serves nothing: never attached
    assert {h["ppid"] for h in hellos} == {gun.pid}
    requests = named(events, "request")
    assert len(requests) == 21
    assert [r["status"] for r in requests if r["path"] == "/error/"] == [500]
    error = next(r for r in requests if r["path"] == "/error/")
    assert error["error"] is not None
