"""What the checkout and the wheel hold: .gitignore lists no tracked file, and the wheel installs
one top-level package (the demo ships inside it, as a folder, with its templates and static)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def git(*args: str) -> str:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout


def test_gitignore_lists_no_tracked_file() -> None:
    assert git("ls-files", "--cached", "--ignored", "--exclude-standard") == ""


@pytest.mark.slow
def test_wheel_installs_only_asgi_dashboard_with_the_demo_inside(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name in git("ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():  # a file another change just deleted is skipped
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        timeout=110,
        check=True,
    )
    (wheel,) = tmp_path.glob("asgi_dash-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if not n.startswith("asgi_dash-")} == {"asgi_dashboard"}
    demo = "asgi_dashboard/demo/"
    for needed in (
        "manage.py",
        "demosite/asgi.py",
        "demoapp/migrations/0003_demo_user.py",
        "demoapp/templates/demoapp/base.html",
        "demoapp/static/demoapp/chat.js",
    ):
        assert demo + needed in names, needed
    assert demo + "__init__.py" not in names  # a folder, not an importable subpackage
    assert not [n for n in names if "__pycache__" in n]
