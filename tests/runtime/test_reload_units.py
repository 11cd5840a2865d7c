"""Reloader internals without processes: filters, classification, loop guard, timeline rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from watchfiles import Change

from asgi_dashboard.config import DashboardConfig
from asgi_dashboard.events import (
    Event,
    ExceptionInfo,
    FilesChanged,
    ReloadFinished,
    ReloadLoopDetected,
    ServerFailed,
)
from asgi_dashboard.model import ReloadHistory, describe_watch
from asgi_dashboard.runtime.reloader import LoopGuard, Reloader, ReloadFilter, classify

P = "/proj"


@pytest.mark.parametrize(
    ("path", "watched"),
    [
        (f"{P}/app/views.py", True),
        (f"{P}/.env", True),
        (f"{P}/app/templates/app/page.html", True),
        (f"{P}/app/templates/app/mail.txt", True),
        (f"{P}/custom_tpl/page.html", True),  # a template dir reported by Django
        (f"{P}/app/static/app/site.css", False),
        (f"{P}/README.md", False),
        (f"{P}/.git/index", False),
        (f"{P}/app/__pycache__/views.cpython-311.pyc", False),
        (f"{P}/node_modules/x/index.py", False),
        (f"{P}/venv/lib/site.py", False),
        (f"{P}/media/upload.py", False),
        (f"{P}/db.sqlite3", False),
        (f"{P}/db.sqlite3-wal", False),
        (f"{P}/db.sqlite3-journal", False),
        (f"{P}/db.sqlite3-shm", False),
        (f"{P}/app/.views.py.swp", False),
        (f"{P}/app/views.py~", False),
    ],
)
def test_default_filter(path: str, watched: bool) -> None:
    flt = ReloadFilter(template_dirs=[f"{P}/custom_tpl"])
    assert flt(Change.modified, path) is watched


def test_user_globs_and_virtualenv_detection(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "pyvenv.cfg").write_text("home = /usr\n")
    flt = ReloadFilter(includes=["*.yaml"], excludes=["generated_*.py"])
    assert flt(Change.modified, f"{P}/config.yaml")
    assert not flt(Change.modified, f"{P}/app/generated_models.py")
    assert not flt(Change.modified, str(tmp_path / "tools" / "lib" / "mod.py"))
    flt.ignore_prefixes = (f"{P}/uploads",)
    assert not flt(Change.added, f"{P}/uploads/x.py")


def test_classification() -> None:
    flt = ReloadFilter()
    view, tpl, settings = f"{P}/a/views.py", f"{P}/a/templates/a/x.html", f"{P}/s/settings.py"
    assert classify({(Change.modified, view)}, flt).action == "restart"
    assert classify({(Change.modified, tpl)}, flt).action == "templates"
    assert classify({(Change.modified, tpl)}, flt, server_failed=True).action == "restart"
    both = {(Change.modified, tpl), (Change.modified, view)}
    assert classify(both, flt).action == "restart"
    rebuild = classify({(Change.modified, settings)}, flt, warm_files=frozenset({settings}))
    assert rebuild.action == "rebuild" and "settings.py" in rebuild.reason
    assert classify({(Change.modified, f"{P}/.env")}, flt).action == "rebuild"


def test_loop_guard_needs_repeats_within_the_window() -> None:
    guard = LoopGuard(threshold=3, window_s=10)
    assert guard.note(["/p/out.log"], now=0) == []
    assert guard.note(["/p/out.log"], now=1) == []
    assert guard.note(["/p/out.log"], now=2) == [("/p/out.log", 3)]
    assert "/p/out.log" in guard.ignored
    slow = LoopGuard(threshold=3, window_s=10)
    for t in (0, 20, 40):  # a person editing now and then is not a loop
        assert slow.note(["/p/conf.yaml"], now=t) == []


async def test_reloader_reports_the_loop_and_then_ignores_the_file() -> None:
    config = DashboardConfig(Path(P), "s", "x", reload_includes=("*.log",))
    handled: list[object] = []
    emitted: list[Event] = []

    async def handle(decision: object) -> None:
        handled.append(decision)

    reloader = Reloader(config, handle, emitted.append)
    for i in range(5):
        await reloader.consider({(Change.modified, f"{P}/hits.log")}, i)
    assert len(handled) == 2
    loops = [e for e in emitted if isinstance(e, ReloadLoopDetected)]
    assert [e.path for e in loops] == [f"{P}/hits.log"]


def test_timeline_rows() -> None:
    history = ReloadHistory()
    history.add([FilesChanged(ts=1, paths=(f"{P}/a.py",), action="restart")])
    assert history.rows[-1].outcome == ""
    history.add([ReloadFinished(ts=2, generation=2, path="fork", duration_ns=50_000_000)])
    row = history.rows[-1]
    assert (row.how, row.outcome, row.duration_ns) == ("fork", "ok", 50_000_000)
    history.add(
        [
            FilesChanged(ts=3, paths=(f"{P}/a.py",), action="restart"),
            ServerFailed(message="SyntaxError in a.py", phase="import", generation=3),
            ReloadFinished(
                ts=4,
                generation=3,
                path="fork",
                duration_ns=1,
                ok=False,
                error=ExceptionInfo("SyntaxError", "bad", ""),
            ),
            ReloadFinished(ts=5, generation=4, path="manual", duration_ns=2),
            ReloadLoopDetected(ts=6, path=f"{P}/hits.log", count=3),
        ]
    )
    outcomes = [(r.action, r.how, r.outcome) for r in history.rows]
    assert outcomes == [
        ("restart", "fork", "ok"),
        ("restart", "fork", "failed"),
        ("manual", "manual", "ok"),
        ("ignore", "", "loop"),
    ]
    assert "SyntaxError" in history.rows[1].detail
    assert "--reload-exclude 'hits.log'" in history.rows[3].detail


def test_describe_watch() -> None:
    """The Reloads tab's header words what the watcher reports it watches (ReloadWatching)."""
    config = DashboardConfig(Path(P), "s", "x", reload_excludes=("*.tmp.py",))

    async def handle(decision: object) -> None:
        return None

    text = describe_watch(Reloader(config, handle, lambda _: None).watching())
    assert P in text and "*.py" in text and "*.tmp.py" in text and ".git" in text
    assert "off" in describe_watch(None, reload=False)
