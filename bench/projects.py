"""The Django projects the benchmarks serve: the bundled demo and a fresh ``startproject``.

Both live in (or point their database at) a temporary folder, so a benchmark never touches the
user's data. The generated project gets two tiny views appended to its URLconf (``/hello/`` sync,
``/ahello/`` async) next to the stock admin, whose login page is a template-heavy sync view.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "asgi_dashboard" / "demo"


@dataclass(frozen=True)
class Project:
    """A project as both servers see it."""

    name: str
    dir: Path
    #: ``module:attr`` for plain uvicorn.
    asgi: str
    settings: str
    env: dict[str, str] = field(default_factory=dict)
    #: A cheap page that answers 200 once the project is ready.
    ready_path: str = "/"
    #: Benchmarked views: label -> path (with query).
    views: dict[str, str] = field(default_factory=dict)
    #: Views figure 1b (tap cost) measures too: SQL-heavy ones, where the per-statement cost shows.
    tapcost_views: dict[str, str] = field(default_factory=dict)


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, timeout=120)


def demo(tmp: Path) -> Project:
    """The bundled demo with its database in ``tmp`` (migrated once here, not in a timing)."""
    env = {"ASGI_DASH_DEMO_DB": str(tmp / "demo.sqlite3")}
    project = Project(
        name="demo",
        dir=DEMO_DIR,
        asgi="demosite.asgi:application",
        settings="demosite.settings",
        env=env,
        ready_path="/async/?ms=0",
        views={
            "demo /sync/?ms=0": "/sync/?ms=0",
            "demo /async/?ms=0": "/async/?ms=0",
            "demo /orm/sync/": "/orm/sync/",
        },
        tapcost_views={
            "demo /orm/n-plus-one/ (11 statements)": "/orm/n-plus-one/",
            "demo /hops/?ms=0 (sync-only middleware)": "/hops/?ms=0",
        },
    )
    full_env = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": project.settings}
    # Importing the ASGI module migrates and seeds the database (demoapp.bootstrap).
    _run([sys.executable, "-c", "import demosite.asgi"], DEMO_DIR, full_env)
    return project


VIEWS_PY = '''"""Tiny views added by the asgi-dash benchmark."""

from django.http import HttpResponse


def hello(request):
    return HttpResponse("hello")


async def ahello(request):
    return HttpResponse("hello")
'''


TINY_SETTINGS = """# asgi-dash bench "tiny" variant: no middleware at all.
from .settings import *  # noqa: F403

MIDDLEWARE = []
"""


def startproject(tmp: Path, name: str = "benchsite") -> Project:
    """A freshly generated ``django-admin startproject`` with two tiny views, migrated."""
    root = tmp / "startproject"
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    django_admin = [sys.executable, "-m", "django", "startproject", name, str(root)]
    if not (root / "manage.py").exists():
        _run(django_admin, tmp, env)
        (root / name / "bench_views.py").write_text(VIEWS_PY)
        (root / name / "settings_tiny.py").write_text(TINY_SETTINGS)
        urls = root / name / "urls.py"
        urls.write_text(
            urls.read_text()
            + f"\nfrom {name} import bench_views  # noqa: E402\n\n"
            + "urlpatterns += [\n"
            + '    path("hello/", bench_views.hello),\n'
            + '    path("ahello/", bench_views.ahello),\n'
            + "]\n"
        )
        _run([sys.executable, "manage.py", "migrate", "--noinput"], root, env)
    return Project(
        name="startproject",
        dir=root,
        asgi=f"{name}.asgi:application",
        settings=f"{name}.settings",
        ready_path="/hello/",
        views={
            "startproject /hello/ (sync)": "/hello/",
            "startproject /ahello/ (async)": "/ahello/",
            "startproject /admin/login/": "/admin/login/",
        },
    )


def tiny(tmp: Path, name: str = "benchsite") -> Project:
    """The generated project with no middleware: the fastest Django view (``/ahello/``), for
    the long memory run and the pipeline count check."""
    base = startproject(tmp, name)
    return Project(
        name="tiny",
        dir=base.dir,
        asgi=base.asgi,
        settings=f"{name}.settings_tiny",
        env={"DJANGO_SETTINGS_MODULE": f"{name}.settings_tiny"},
        ready_path="/ahello/",
        views={"tiny /ahello/ (async, no middleware)": "/ahello/"},
    )
