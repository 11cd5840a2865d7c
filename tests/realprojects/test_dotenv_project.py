"""A project whose ``manage.py`` loads ``.env`` (python-dotenv, or django-environ's
``read_env``), which moves the database.

Under asgi-dash the project must see the environment ``manage.py`` gives it: the same setting,
the same database (the one ``manage.py migrate`` created), and the start-up says which file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import NO_VIEW, Project, Step, ViewCheck, compare_with_django, format_mismatches

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

KIND = "dotenv"  # and "environ": the same project, its manage.py loading .env with django-environ

STEPS = [
    Step("environment", "GET", "/env/"),
    Step("admin login page", "GET", "/admin/login/"),
    Step("no such URL", "GET", "/nope/"),
]

#: Written from files/dotenv/envcheck/views.py and startproject's URLconf.
EXPECTED: dict[str, tuple[int, ViewCheck]] = {
    "environment": (200, "envcheck.views.environment"),
    "admin login page": (200, "django.contrib.admin.sites.AdminSite.login"),
    "no such URL": (404, NO_VIEW),
}


@pytest.mark.parametrize("kind", ["dotenv", "environ"])
async def test_dotenv_setting_is_the_one_manage_py_sees(
    kind: str, make_project: Callable[[str], Project], tmp_path: Path
) -> None:
    comparison = await compare_with_django(make_project(kind), STEPS, tmp_path)
    problems = comparison.mismatches(EXPECTED)

    # Fixture sanity: manage.py does load .env (the reference runs inside manage.py shell).
    truth = json.loads(comparison.row("environment").ref["body"])
    assert truth == {"greeting": "hello from .env", "database": "env-db.sqlite3", "users": 1}
    seen = comparison.row("environment").body
    try:
        ours = json.loads(seen)
    except ValueError:
        ours = seen[:200]
    if ours != truth:
        problems.append(f"'environment': under asgi-dash {ours!r} != under manage.py {truth!r}")
    started = next((e for e in comparison.events if e["event"] == "server-started"), {})
    if ".env" not in json.dumps(started):
        problems.append(f"server-started does not name the .env file it loaded: {started}")
    loader = {"dotenv": "python-dotenv", "environ": "django-environ"}[kind]
    assert not problems, format_mismatches(f"manage.py + {loader}", problems)
