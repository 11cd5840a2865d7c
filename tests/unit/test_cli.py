"""The command line: subcommands in ``--help``, ``run`` as the default, a project named ``probe``.

Parsing runs in this process (argparse only); one check runs ``python -m asgi_dashboard`` as a
user does, with a bounded timeout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asgi_dashboard.cli import build_parser, config_from_args, parse_command_line, with_command

MANAGE_PY = (
    "import os, sys\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_x.settings")\n'
    "from django.core.management import execute_from_command_line\n"
    "execute_from_command_line(sys.argv)\n"
)


def parse(*argv: str) -> argparse.Namespace:
    """As ``main`` parses (``run`` alone), checked against the full parser's ``run``."""
    args = parse_command_line(argv)
    assert args == build_parser().parse_args(with_command(argv))
    return args


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for usage in ("asgi-dash [run] [PROJECT]", "asgi-dash probe URL", "asgi-dash replay"):
        assert usage in out
    for command in ("run", "probe", "replay"):
        assert f"\n    {command} " in out


@pytest.mark.parametrize(
    ("argv", "command", "path"),
    [
        ((), "run", None),
        (("proj",), "run", "proj"),
        (("--headless", "--port", "0"), "run", None),
        (("--headless", "probe"), "run", "probe"),
        (("run",), "run", None),
        (("run", "probe"), "run", "probe"),
        (("./probe",), "run", "./probe"),
        (("probe", "http://127.0.0.1:8000/"), "probe", None),
        (("replay", "--events", "e.jsonl", "1-4"), "replay", None),
    ],
)
def test_run_is_the_default_command(argv: tuple[str, ...], command: str, path: str | None) -> None:
    args = parse(*argv)
    assert args.command == command
    if command == "run":
        assert args.path == path


def test_run_options_parse_as_before_subcommands() -> None:
    args = parse(
        "proj", "--settings", "s.settings", "--port", "8123", "--no-reload", "--headless",
        "--json", "--reload-dir", "a", "--reload-dir", "b", "--block-threshold", "50",
        "--no-env-file",
    )  # fmt: skip
    assert args.command == "run"
    assert (args.settings, args.port) == ("s.settings", 8123)
    assert args.reload_dir == ["a", "b"]
    assert args.no_reload and args.json and args.no_env_file
    assert args.block_threshold == 50.0


@pytest.mark.parametrize("argv", [("run", "probe"), ("./probe",)])
def test_a_project_folder_named_probe_is_passable(
    argv: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "probe"
    (project / "site_x").mkdir(parents=True)
    (project / "manage.py").write_text(MANAGE_PY)
    (project / "site_x" / "__init__.py").write_text("")
    (project / "site_x" / "settings.py").write_text("SECRET_KEY = 'x'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    config = config_from_args(parse(*argv, "--no-env-file"))
    assert config.project_dir == project.resolve()
    assert config.settings_module == "site_x.settings"


def test_the_installed_command_runs_probe_as_a_folder(tmp_path: Path) -> None:
    """``asgi-dash run probe`` as a user runs it: the folder is the project (not a Django one)."""
    (tmp_path / "probe").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "asgi_dashboard", "run", "probe", "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2
    assert f"{tmp_path / 'probe'} is not a Django project" in done.stderr
