"""Each bad input gives one clear sentence and a non-zero exit code, never a traceback."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from asgi_dashboard.config import EXIT_BAD_INPUT, EXIT_PROJECT_FAILED
from tests.runtime.conftest import launch

MANAGE = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "{s}")\n'
SETTINGS = """
SECRET_KEY = "test"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
{extra}
"""


def project(
    root: Path, *, extra: str = 'ROOT_URLCONF = "proj.urls"', asgi: str | None = None
) -> Path:
    (root / "proj").mkdir(parents=True)
    (root / "manage.py").write_text(MANAGE.format(s="proj.settings"))
    (root / "proj" / "__init__.py").write_text("")
    (root / "proj" / "settings.py").write_text(SETTINGS.format(extra=extra))
    (root / "proj" / "urls.py").write_text("urlpatterns = []\n")
    if asgi is not None:
        (root / "proj" / "asgi.py").write_text(asgi)
    return root


async def run_to_exit(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    run = await launch(*args, "--port", "0", cwd=cwd)
    stdout, stderr = await asyncio.wait_for(run.process.communicate(), 60)
    assert run.process.returncode is not None
    return run.process.returncode, stdout.decode(), stderr.decode()


def one_clear_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("asgi-dash:")]
    assert len(lines) == 1, stderr
    return lines[0]


async def test_missing_path(tmp_path: Path) -> None:
    code, _, err = await run_to_exit(str(tmp_path / "nope"))
    assert code == EXIT_BAD_INPUT
    assert "does not exist" in one_clear_line(err)


async def test_folder_that_is_not_a_project(tmp_path: Path) -> None:
    code, _, err = await run_to_exit(str(tmp_path))
    assert code == EXIT_BAD_INPUT
    assert "not a Django project" in one_clear_line(err)


async def test_settings_not_importable(tmp_path: Path) -> None:
    code, out, err = await run_to_exit(str(project(tmp_path)), "--settings", "nope.settings")
    assert code == EXIT_PROJECT_FAILED
    assert "'nope.settings' was not found" in one_clear_line(err)
    assert '"event":"server-failed"' in out.replace(" ", "")  # the traceback travels in the event


async def test_settings_without_root_urlconf(tmp_path: Path) -> None:
    code, _, err = await run_to_exit(str(project(tmp_path, extra="")))
    assert code == EXIT_PROJECT_FAILED
    assert "no ROOT_URLCONF" in one_clear_line(err)


async def test_settings_raising(tmp_path: Path) -> None:
    code, _, err = await run_to_exit(str(project(tmp_path, extra="import does_not_exist_xyz")))
    assert code == EXIT_PROJECT_FAILED
    line = one_clear_line(err)
    assert "does_not_exist_xyz" in line and "settings.py, line" in line


async def test_asgi_module_raising_at_import(tmp_path: Path) -> None:
    code, _, err = await run_to_exit(str(project(tmp_path, asgi="1 / 0\n")))
    assert code == EXIT_PROJECT_FAILED
    line = one_clear_line(err)
    assert "ZeroDivisionError" in line and "asgi.py, line 1" in line


async def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        run = await launch(str(project(tmp_path)), "--port", str(port))
        _, stderr = await asyncio.wait_for(run.process.communicate(), 60)
    assert run.process.returncode == EXIT_BAD_INPUT
    line = one_clear_line(stderr.decode())
    assert f"Port {port}" in line and "--port" in line


@pytest.mark.parametrize("mode", [[], ["--in-process"]], ids=["child", "in-process"])
async def test_project_without_asgi_py_uses_django_handler(tmp_path: Path, mode: list[str]) -> None:
    run = await launch(str(project(tmp_path)), "--port", "0", *mode)
    try:
        started = await run.wait_event("server-started", timeout=30)
        assert started["asgi_app_source"] == "django"
        assert started["mode"] == ("in-process" if mode else "child")
    finally:
        assert await run.stop() == 0
