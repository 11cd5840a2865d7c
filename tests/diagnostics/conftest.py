"""Helpers for diagnostics tests against the real demo server (see tests/runtime/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import DEMO_DIR


def copy_demo(tmp_path: Path) -> Path:
    """A private copy of the demo project that a test may edit."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*"))
    return target


# The real-server fixture, shared with the runtime tests.
from tests.runtime.conftest import demo_server  # noqa: E402, F401
