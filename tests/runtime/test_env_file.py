"""The same environment as ``manage.py``: a real ``django-admin startproject`` whose ``manage.py``
calls python-dotenv's ``load_dotenv()``, served by a real ``asgi-dash --headless --json``.

The settings read ``MARKER`` and the database name from the environment; a view returns both.
What asgi-dash serves must equal what ``python manage.py shell -c ...`` prints for the same
environment, with ``--env-file`` / ``--no-env-file`` doing what they say, and an edited ``.env``
taking effect on the reload it triggers.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from asgi_dashboard.config import EXIT_BAD_INPUT
from tests.runtime.conftest import HeadlessRun, _clean_environ, launch
from tests.runtime.test_reload import poll_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

SETTINGS_TAIL = """
import os

MARKER = os.environ.get("MARKER", "unset")
DATABASES["default"]["NAME"] = BASE_DIR / os.environ.get("DB_NAME", "db.sqlite3")
"""
URLS_TAIL = """
from django.conf import settings
from django.http import HttpResponse


def marker(request):
    return HttpResponse(f"{settings.MARKER}|{settings.DATABASES['default']['NAME'].name}")


urlpatterns += [path("marker/", marker)]
"""
SHELL = (
    "from django.conf import settings; "
    "print(f\"{settings.MARKER}|{settings.DATABASES['default']['NAME'].name}\")"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``django-admin startproject mysite`` with ``load_dotenv()`` added to ``manage.py``."""
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite", str(root)],
        check=True,
        env=_clean_environ(),
        timeout=60,
    )
    manage = root / "manage.py"
    text = manage.read_text()
    text = text.replace("import sys\n", "import sys\n\nfrom dotenv import load_dotenv\n", 1)
    text = text.replace(
        '    """Run administrative tasks."""\n',
        '    """Run administrative tasks."""\n    load_dotenv()\n',
        1,
    )
    assert "load_dotenv()" in text
    manage.write_text(text)
    with open(root / "mysite" / "settings.py", "a") as f:
        f.write(SETTINGS_TAIL)
    with open(root / "mysite" / "urls.py", "a") as f:
        f.write(URLS_TAIL)
    (root / ".env").write_text("MARKER=from-dotenv\nDB_NAME=dotenv.sqlite3\n")
    (root / "other.env").write_text("MARKER=from-other\n")
    return root


def manage_py_says(project: Path, **env: str) -> str:
    """What ``python manage.py shell -c`` prints for the setting (the reference)."""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHELL],
        cwd=project,
        env={**_clean_environ(), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]  # after Django 5.2's "objects imported" line


async def serve(project: Path, *args: str, env: dict[str, str] | None = None) -> HeadlessRun:
    return await launch(str(project), "--port", "0", *args, cwd=project, env=env)


async def served(run: HeadlessRun) -> tuple[str, dict[str, object]]:
    started = await run.wait_event("server-started", timeout=40)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{str(started['url']).rstrip('/')}/marker/")
    assert response.status_code == 200, response.text[:300]
    return response.text, started


async def test_served_setting_equals_manage_py(project: Path) -> None:
    reference = manage_py_says(project)
    assert reference == "from-dotenv|dotenv.sqlite3"
    run = await serve(project, "--no-reload")
    try:
        text, started = await served(run)
    finally:
        await run.stop()
    assert text == reference
    assert started["env_file"] == str(project / ".env")


async def test_variable_already_set_wins_as_with_manage_py(project: Path) -> None:
    reference = manage_py_says(project, MARKER="from-shell")
    assert reference == "from-shell|dotenv.sqlite3"
    run = await serve(project, "--no-reload", env={"MARKER": "from-shell"})
    try:
        text, _ = await served(run)
    finally:
        await run.stop()
    assert text == reference


async def test_no_env_file(project: Path) -> None:
    run = await serve(project, "--no-reload", "--no-env-file")
    try:
        text, started = await served(run)
    finally:
        await run.stop()
    assert text == "unset|db.sqlite3"
    assert started["env_file"] == ""


async def test_env_file_option_names_another_file(project: Path) -> None:
    run = await serve(project, "--no-reload", "--env-file", str(project / "other.env"))
    try:
        text, started = await served(run)
    finally:
        await run.stop()
    # Only other.env is loaded: DB_NAME from .env is not.
    assert text == "from-other|db.sqlite3"
    assert started["env_file"] == str(project / "other.env")


async def test_missing_env_file_is_bad_input(project: Path) -> None:
    run = await serve(project, "--env-file", str(project / "nope.env"))
    _, stderr = await asyncio.wait_for(run.process.communicate(), 60)
    assert run.process.returncode == EXIT_BAD_INPUT
    assert "nope.env is not a file" in stderr.decode()


async def test_edited_env_is_served_after_reload(project: Path) -> None:
    """Each edit of .env rebuilds the server (and the warm process) with the new value."""
    run = await serve(project)
    try:
        started = await run.wait_event("server-started", timeout=40)
        url = f"{str(started['url']).rstrip('/')}/marker/"
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(url)).text == "from-dotenv|dotenv.sqlite3"
            for value in ("edited-once", "edited-twice"):
                (project / ".env").write_text(f"MARKER={value}\nDB_NAME=dotenv.sqlite3\n")
                changed = await run.wait_event("files-changed", timeout=20)
                assert changed["action"] == "rebuild"
                finished = await run.wait_event("reload-finished", timeout=40)
                assert finished["ok"], finished
                prefix = f"{value}|"

                def starts_with_prefix(r: httpx.Response, prefix: str = prefix) -> bool:
                    return r.text.startswith(prefix)

                response = await poll_until(client, url, starts_with_prefix, timeout=20)
                assert response.text == f"{value}|dotenv.sqlite3"
                assert manage_py_says(project) == response.text
    finally:
        await run.stop()


async def test_in_process_loads_the_same_file(project: Path) -> None:
    run = await serve(project, "--no-reload", "--in-process")
    try:
        text, started = await served(run)
    finally:
        await run.stop()
    assert text == manage_py_says(project)
    assert started["env_file"] == str(project / ".env")
