"""Project discovery on real folder layouts (nothing is imported)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgi_dashboard.config import DEMO_DIR, DiscoveryError, discover, settings_from_manage_py

STOCK = """#!/usr/bin/env python
import os
import sys

def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings}")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""


def make_project(root: Path, settings: str = "mysite.settings", text: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "manage.py").write_text(text if text is not None else STOCK.format(settings=settings))
    return root


def test_reads_stock_manage_py(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert discover(project, environ={}) == (
        project.resolve(),
        "mysite.settings",
        "manage.py",
        False,
    )


def test_reads_wagtail_settings_package(tmp_path: Path) -> None:
    project = make_project(tmp_path / "w", settings="mysite.settings.dev")
    (project / "mysite" / "settings").mkdir(parents=True)
    (project / "mysite" / "settings" / "__init__.py").write_text("")
    assert discover(project, environ={})[1] == "mysite.settings.dev"


def test_reads_plain_assignment(tmp_path: Path) -> None:
    text = 'import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "conf.local"\n'
    assert settings_from_manage_py(make_project(tmp_path, text=text) / "manage.py") == "conf.local"


def test_precedence_settings_flag_then_env_then_manage_py(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    env = {"DJANGO_SETTINGS_MODULE": "from.env"}
    assert discover(project, settings="from.flag", environ=env)[1:3] == ("from.flag", "--settings")
    assert discover(project, environ=env)[1:3] == ("from.env", "DJANGO_SETTINGS_MODULE")
    assert discover(project, environ={})[1:3] == ("mysite.settings", "manage.py")


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="does not exist"):
        discover(tmp_path / "nope", environ={})


def test_folder_without_manage_py_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="not a Django project"):
        discover(tmp_path, environ={})


def test_manage_py_without_settings(tmp_path: Path) -> None:
    project = make_project(tmp_path, text="print('hi')\n")
    with pytest.raises(DiscoveryError, match="--settings"):
        discover(project, environ={})


def test_manage_py_path_is_accepted(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert discover(project / "manage.py", environ={})[0] == project.resolve()


def test_no_path_and_no_project_runs_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder, settings, source, is_demo = discover(None, environ={"DJANGO_SETTINGS_MODULE": "x.y"})
    assert (folder, settings, source, is_demo) == (DEMO_DIR, "demosite.settings", "manage.py", True)
    assert (DEMO_DIR / "manage.py").is_file()


def test_no_path_in_a_project_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p")
    monkeypatch.chdir(project)
    assert discover(None, environ={})[0] == project.resolve()
