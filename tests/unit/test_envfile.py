"""Finding the ``.env`` a project loads, and what it sets (no project is imported or run).

The parser is checked against python-dotenv's own on the same text; the values against what
``load_dotenv()`` really puts in ``os.environ`` (run in a subprocess with a clean environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dotenv
import pytest

from asgi_dashboard.config import DiscoveryError, env_files_for, settings_from_env_files
from asgi_dashboard.envfile import (
    EnvFile,
    apply_env_files,
    detect,
    env_file_values,
    parse_env_file,
    parse_env_text,
)

SAMPLE = """\
# a comment
PLAIN=value
SPACED = spaced value   # trailing comment
export EXPORTED=yes
HASH=abc#def
SINGLE='literal ${PLAIN}'
SINGLE2='a \\' b'
DOUBLE="line1\\nline2 \\"q\\""
MULTI="first
second"
EMPTY=
BARE
REF=${PLAIN}-${MISSING:-fallback}
URL=postgres://u:p@h:5432/db
"""

MANAGE_PY = """#!/usr/bin/env python
import os
import sys
{imports}

def main():
    {call}
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"""


def project(tmp_path: Path, imports: str = "", call: str = "pass", settings: str = "") -> Path:
    root = tmp_path / "proj"
    (root / "mysite").mkdir(parents=True)
    (root / "manage.py").write_text(MANAGE_PY.format(imports=imports, call=call))
    (root / "mysite" / "__init__.py").write_text("")
    (root / "mysite" / "settings.py").write_text(
        settings or "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\n"
    )
    return root


def test_own_parser_matches_python_dotenv(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(SAMPLE)
    theirs = [(b.key, b.value) for b in dotenv.parser.parse_stream(path.open()) if b.key]
    assert parse_env_text(SAMPLE) == theirs
    assert parse_env_file(path) == theirs


def test_values_match_load_dotenv(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(SAMPLE)
    base = {"PATH": os.environ["PATH"], "PLAIN": "from-shell"}
    script = (
        "import json, os, sys, dotenv; before = dict(os.environ); "
        "dotenv.load_dotenv(sys.argv[1]); "
        "print(json.dumps({k: v for k, v in os.environ.items() if before.get(k) != v}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], env=base, capture_output=True, text=True
    )
    expected = json.loads(out.stdout)
    expected.pop("LC_CTYPE", None)  # Python may set it at start-up
    values, read = env_file_values((EnvFile(path, "test"),), base)
    assert values == expected
    assert read == (path,)
    # The shell's variable wins; the file's value was used only where it is not set.
    assert "PLAIN" not in values and values["REF"] == "from-shell-fallback"


def test_override_true_lets_the_file_win(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=file\n")
    assert env_file_values((EnvFile(path, "t", override=True),), {"A": "shell"})[0] == {"A": "file"}
    assert env_file_values((EnvFile(path, "t"),), {"A": "shell"})[0] == {}


def test_apply_sets_only_missing_variables(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=file\nB=file\n")
    environ = {"A": "shell"}
    assert apply_env_files((EnvFile(path, "t"),), environ) == (path,)
    assert environ == {"A": "shell", "B": "file"}


def test_missing_file_is_skipped(tmp_path: Path) -> None:
    assert env_file_values((EnvFile(tmp_path / "nope.env", "t"),), {}) == ({}, ())


@pytest.mark.parametrize(
    ("imports", "call", "where"),
    [
        ("from dotenv import load_dotenv", "load_dotenv()", ".env"),
        ("import dotenv", "dotenv.load_dotenv()", ".env"),
        ("from dotenv import load_dotenv, find_dotenv", "load_dotenv(find_dotenv())", ".env"),
        (
            "from pathlib import Path\nfrom dotenv import load_dotenv",
            "load_dotenv(Path(__file__).resolve().parent / 'config' / 'local.env')",
            "config/local.env",
        ),
        (
            "from dotenv import load_dotenv",
            "load_dotenv(dotenv_path=os.path.join(os.path.dirname(__file__), 'dev.env'))",
            "dev.env",
        ),
        (
            "from dotenv import load_dotenv",
            "load_dotenv(os.environ.get('ENV_FILE', 'fallback.env'))",
            "fallback.env",
        ),
        ("import dotenv", "dotenv.read_dotenv()", ".env"),
    ],
)
def test_detects_loads_in_manage_py(tmp_path: Path, imports: str, call: str, where: str) -> None:
    root = project(tmp_path, imports, call)
    (found,) = detect(root, "mysite.settings", environ={})
    assert found.path == (root / where).resolve() or found.path == root / where
    assert found.origin.startswith("manage.py: ")
    assert not found.override


def test_load_dotenv_searches_parent_folders(tmp_path: Path) -> None:
    root = project(tmp_path, "from dotenv import load_dotenv", "load_dotenv(override=True)")
    (tmp_path / ".env").write_text("X=1\n")  # above the project, as find_dotenv() walks up
    (found,) = detect(root, "mysite.settings", environ={})
    assert found.path == tmp_path / ".env"
    assert found.override


def test_detects_django_environ_in_settings_package(tmp_path: Path) -> None:
    root = project(tmp_path)
    package = root / "mysite" / "settings"
    (root / "mysite" / "settings.py").unlink()
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(
        "import os\nimport environ\n"
        "BASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\n"
        "env = environ.Env()\n"
        "environ.Env.read_env(os.path.join(BASE_DIR, '.env'))\n"
    )
    (package / "dev.py").write_text("from .base import *  # noqa\nDEBUG = True\n")
    (found,) = detect(root, "mysite.settings.dev", environ={})
    assert found.path == root / ".env"
    assert found.origin == "mysite/settings/base.py: django-environ"
    assert not found.interpolate


def test_unevaluable_path_falls_back_to_base_dir(tmp_path: Path) -> None:
    settings = (
        "from pathlib import Path\nimport environ\n"
        "BASE_DIR = Path(__file__).resolve().parent.parent\n"
        "environ.Env.read_env(some_function())\n"
    )
    root = project(tmp_path, settings=settings)
    (found,) = detect(root, "mysite.settings", environ={})
    assert found.path == root / ".env"


def test_no_loader_no_files(tmp_path: Path) -> None:
    assert detect(project(tmp_path), "mysite.settings", environ={}) == ()


def test_env_file_option(tmp_path: Path) -> None:
    root = project(tmp_path, "from dotenv import load_dotenv", "load_dotenv()")
    other = tmp_path / "other.env"
    other.write_text("DJANGO_SETTINGS_MODULE=mysite.other\n")
    assert env_files_for(root, "mysite.settings", enabled=False) == ()
    (chosen,) = env_files_for(root, "mysite.settings", env_file=other)
    assert chosen == EnvFile(other, "--env-file")
    assert settings_from_env_files((chosen,), environ={}) == "mysite.other"
    with pytest.raises(DiscoveryError, match="is not a file"):
        env_files_for(root, "mysite.settings", env_file=tmp_path / "missing.env")


def test_reloader_treats_the_projects_env_file_as_env(tmp_path: Path) -> None:
    """A django-environ file with any name (here config/app.conf) reloads like a .env."""
    from watchfiles import Change

    from asgi_dashboard.config import DashboardConfig
    from asgi_dashboard.runtime.reloader import Reloader, classify

    root = project(tmp_path)
    conf = root / "config" / "app.conf"
    conf.parent.mkdir()
    conf.write_text("A=1\n")
    config = DashboardConfig(
        project_dir=root,
        settings_module="mysite.settings",
        settings_source="manage.py",
        env_files=(EnvFile(conf, "mysite/settings.py: django-environ"),),
    )

    async def handle(decision: object) -> None:
        pass

    reloader = Reloader(config, handle, lambda event: None)
    assert reloader.filter(Change.modified, str(conf))
    assert not reloader.filter(Change.modified, str(root / "config" / "other.conf"))
    decision = classify({(Change.modified, str(conf))}, reloader.filter)
    assert decision.action == "rebuild"
