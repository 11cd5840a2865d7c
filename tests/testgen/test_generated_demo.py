"""Generated tests are run: traffic recorded from the real demo, tests written, pytest run.

A copy of the demo is served by ``asgi-dash --headless --json`` (a real server child). Real
requests are made (a page, a JSON API with a query, a 404, the admin as the demo user, a POST
to the admin that creates a row, the admin login itself, a POST refused for its missing CSRF
token, a chat and an echo WebSocket), the JSON events are
read back and a test is generated for each into the copy's ``tests/``. pytest runs them with
pytest-django in a subprocess (bounded): they pass. Then the copy's views change (one more
query, a 404 that now resolves, a chat reply with another shape) and exactly the matching
generated tests fail.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from asgi_dashboard.events import Event, RequestFinished, codec
from asgi_dashboard.model.ws import ServerRecords
from asgi_dashboard.testgen import GenOptions, http_test, write_test, ws_test
from tests.conftest import DEMO_DIR
from tests.runtime.conftest import launch

pytestmark = pytest.mark.slow

GENERATED = "tests/test_asgi_dash_generated.py"
PYTEST_TIMEOUT_S = 100


@dataclass
class Recorded:
    project: Path
    tests: dict[str, str]  # what was recorded -> generated test name


async def _traffic(base: str) -> None:
    """The requests and the WebSocket connection the tests are generated from."""
    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        await client.get("/")
        await client.get("/orm/sync/")
        await client.get("/nope/")
        refused = await client.post("/admin/login/", data={"username": "x"})  # no CSRF token
        assert refused.status_code == 403
        await client.get("/admin/login/")
        token = client.cookies["csrftoken"]
        form = {"csrfmiddlewaretoken": token, "username": "demo", "password": "demo"}
        login = await client.post("/admin/login/?next=/admin/", data=form)
        assert login.status_code == 302, login.text[:500]
        assert (await client.get("/admin/")).status_code == 200
        add = {"csrfmiddlewaretoken": token, "name": "Generated", "_save": "Save"}
        token = client.cookies["csrftoken"]  # rotated by the login
        add["csrfmiddlewaretoken"] = token
        added = await client.post("/admin/demoapp/category/add/", data=add)
        assert added.status_code == 302, added.text[:500]
        session = client.cookies["sessionid"]
    ws_url = base.replace("http://", "ws://") + "/ws/chat/lobby/"
    origin = base.rstrip("/")
    # The chat as the logged-in demo user (its session cookie), the echo anonymous.
    headers = {"Origin": origin, "Cookie": f"sessionid={session}"}
    async with websockets.connect(ws_url, additional_headers=headers) as ws:
        await ws.send('{"message":"hello"}')
        assert '"user": "demo"' in await asyncio.wait_for(ws.recv(), 10)
    async with websockets.connect(
        base.replace("http://", "ws://") + "/ws/echo/", additional_headers={"Origin": origin}
    ) as ws:
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), 10) == "You said: ping"


async def _record(project: Path, db: Path) -> list[Event]:
    run = await launch(
        str(project), "--port", "0", "--no-reload", env={"ASGI_DASH_DEMO_DB": str(db)}
    )
    try:
        started = await run.wait_event("server-started", timeout=60)
        await asyncio.wait_for(_traffic(started["url"].rstrip("/")), 60)
        await run.wait_for(
            lambda e: e["event"] == "ws-closed" and e.get("consumer", "").endswith("EchoConsumer"),
            timeout=20,
        )
    finally:
        await run.stop()
    return [codec.from_dict(e) for e in run.events]


def _find(events: list[Event], method: str, path: str, query: str = "") -> RequestFinished:
    found = [
        e
        for e in events
        if isinstance(e, RequestFinished) and (e.method, e.path, e.query) == (method, path, query)
    ]
    assert found, f"no {method} {path} in the recording"
    return found[-1]


def _generate(events: list[Event], project: Path) -> dict[str, str]:
    wanted = {
        "page": (_find(events, "GET", "/"), GenOptions()),
        "json-api": (_find(events, "GET", "/orm/sync/"), GenOptions()),
        "404": (_find(events, "GET", "/nope/"), GenOptions()),
        "admin-as-demo": (_find(events, "GET", "/admin/"), GenOptions()),
        "post-add": (
            _find(events, "POST", "/admin/demoapp/category/add/"),
            GenOptions(),
        ),
        "login": (
            _find(events, "POST", "/admin/login/", "next=/admin/"),
            GenOptions(keep_secrets=True),
        ),
        "csrf-refused": (_find(events, "POST", "/admin/login/"), GenOptions()),
    }
    names: dict[str, str] = {}
    for label, (event, options) in wanted.items():
        result = write_test(GENERATED, http_test(event, options), root=project)
        names[label] = result.name
    records = ServerRecords()
    records.ingest(events)
    (conn,) = [c for c in records.connections.values() if c.opened.path == "/ws/chat/lobby/"]
    names["chat"] = write_test(GENERATED, ws_test(conn), root=project).name
    (echo,) = [c for c in records.connections.values() if c.opened.path == "/ws/echo/"]
    names["echo"] = write_test(GENERATED, ws_test(echo), root=project).name
    return names


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    base = tmp_path_factory.mktemp("testgen")
    project = base / "demo"
    shutil.copytree(DEMO_DIR, project, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    events = asyncio.run(_record(project, base / "live.sqlite3"))
    names = _generate(events, project)
    (project / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = demosite.settings\npythonpath = .\n"
    )
    yield Recorded(project, names)


def run_generated(project: Path) -> tuple[int, str]:
    """pytest with pytest-django on the project's generated tests, in a bounded subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env["ASGI_DASH_DEMO_DB"] = str(project.parent / "test-run.sqlite3")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "django",
            "--ds=demosite.settings",
            "-p",
            "no:cacheprovider",
            "-c",
            str(project / "pytest.ini"),
            "--rootdir",
            str(project),
            "-q",
            "-rA",
            "-o",
            "addopts=",
            GENERATED,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=PYTEST_TIMEOUT_S,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def outcomes(output: str) -> dict[str, str]:
    """Test name -> PASSED/FAILED/ERROR from pytest's ``-rA`` summary."""
    found = re.findall(r"^(PASSED|FAILED|ERROR) \S+::(\w+)", output, re.MULTILINE)
    return {name: outcome for outcome, name in found}


def test_generated_tests_pass_on_the_demo(recorded: Recorded) -> None:
    text = (recorded.project / GENERATED).read_text()
    compile(text, GENERATED, "exec")
    # The admin page and the POST as the demo user; the login itself came in anonymous.
    assert text.count('client.force_login(django_user_model.objects.get(username="demo"))') == 2
    assert text.count("def test_") == len(recorded.tests) == 9
    assert "client = Client(enforce_csrf_checks=True)" in text
    assert "async def test_ws_chat_lobby(django_user_model):" in text
    assert '"user": "demo"' in text
    code, output = run_generated(recorded.project)
    assert code == 0, output[-6000:]
    assert outcomes(output) == {name: "PASSED" for name in recorded.tests.values()}, output[-4000:]


def test_generated_tests_fail_when_the_views_change(recorded: Recorded, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(recorded.project, project, ignore=shutil.ignore_patterns("__pycache__"))
    views = project / "demoapp" / "views.py"
    source = views.read_text()
    query = '    items = [_item_json(item) for item in Item.objects.select_related("category")]\n'
    assert query in source
    views.write_text(source.replace(query, "    Item.objects.count()  # one more query\n" + query))
    urls = project / "demosite" / "urls.py"
    urls.write_text(
        urls.read_text().replace(
            'path("", views.home, name="home"),',
            'path("", views.home, name="home"),\n    path("nope/", views.home),',
        )
    )
    consumers = project / "demoapp" / "consumers.py"
    consumers.write_text(consumers.read_text().replace('"room": self.room', '"room": "elsewhere"'))
    code, output = run_generated(project)
    assert code != 0
    changed = {recorded.tests[k] for k in ("json-api", "404", "chat")}
    expected = {name: "FAILED" if name in changed else "PASSED" for name in recorded.tests.values()}
    assert outcomes(output) == expected, output[-6000:]
