"""The demo's start-up: database location and the locked, idempotent auto-migrate."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

# Importing the ASGI module sets up Django and migrates the test database.
import demosite.asgi  # noqa: F401
import pytest

# isort: split
from demoapp.bootstrap import ensure_database
from demosite.settings import demo_database_path

DEMO_DIR = Path(__file__).resolve().parents[2] / "asgi_dashboard" / "demo"


def test_database_defaults_to_the_xdg_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ASGI_DASH_DEMO_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert demo_database_path() == tmp_path / "asgi-dash" / "demo.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert demo_database_path() == Path.home() / ".local/share/asgi-dash/demo.sqlite3"


def test_ensure_database_is_a_no_op_once_migrated() -> None:
    assert ensure_database() is False


async def test_ensure_database_works_inside_a_running_loop() -> None:
    # uvicorn imports the app inside its loop; the ORM must not run on the loop's thread.
    assert ensure_database() is False


def test_two_processes_starting_at_once_migrate_once(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "demo.sqlite3"  # the parent folder does not exist yet
    env = {
        **os.environ,
        "ASGI_DASH_DEMO_DB": str(database),
        "DJANGO_SETTINGS_MODULE": "demosite.settings",
        "PYTHONPATH": str(DEMO_DIR),
    }
    code = "import demosite.asgi"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in starts:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
    assert (database.parent / "demo.sqlite3.lock").exists()
    with sqlite3.connect(database) as db:
        (items,) = db.execute("SELECT COUNT(*) FROM demoapp_item").fetchone()
        (seeded,) = db.execute(
            "SELECT COUNT(*) FROM django_migrations WHERE app = 'demoapp' AND name = '0002_seed'"
        ).fetchone()
    assert (items, seeded) == (10, 1)
