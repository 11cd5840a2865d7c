"""The demo's deploy path, run as the image runs it: the Dockerfile's own build step and CMD.

Docker cannot build here, so the test reads the Dockerfile (the one source of truth) and runs
its ``collectstatic`` step and its exact ``CMD`` from the repository root (the image's WORKDIR),
changing only the address after ``--bind`` (``0.0.0.0:8000`` -> ``127.0.0.1:0``: gunicorn binds
a free loopback port and logs which). Then, through gunicorn's 2 Uvicorn workers: an HTML page,
a static file served by whitenoise (hashed name, gzip variant, far-future Cache-Control), and the
chat WebSocket between two clients held by the two different workers (found in /proc), with the
Redis channel layer the README prescribes for more than one worker. Stopping the master (SIGTERM,
bounded wait, SIGKILL) must leave no worker behind.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.deploy.chat import ChatClient, join_chat
from tests.deploy.processes import ServerProcess, pid_alive

pytestmark = pytest.mark.slow

DOCKERFILE = REPO / "Dockerfile"
LISTENING = r"Listening at: http://127\.0\.0\.1:(\d+)"
BOOTED = r"Booting worker with pid: (\d+)"
READY = r"\[(\d+)\] \[INFO\] Application startup complete"
#: Connections opened at most until the two workers each hold one (measured: 2 or 3 suffice).
MAX_CHAT_CLIENTS = 40


def image_cmd() -> list[str]:
    """The Dockerfile's CMD (exec form, a JSON array)."""
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if ln.startswith("CMD ")]
    assert len(lines) == 1, lines
    cmd = json.loads(lines[0].removeprefix("CMD "))
    assert isinstance(cmd, list) and all(isinstance(a, str) for a in cmd), cmd
    return cmd


def local_cmd() -> list[str]:
    """The CMD with only the bind address changed; ``gunicorn`` is this venv's."""
    cmd = image_cmd()
    assert cmd[0] == "gunicorn" and cmd.count("--bind") == 1, cmd
    cmd[cmd.index("--bind") + 1] = "127.0.0.1:0"
    cmd[0] = str(Path(sys.executable).with_name("gunicorn"))
    return cmd


def collectstatic_step() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's ``RUN VAR=... python ... collectstatic`` line: (its env, its argv)."""
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if "collectstatic" in ln]
    runs = [ln for ln in lines if ln.startswith("RUN ")]
    assert len(runs) == 1, runs
    words = shlex.split(runs[0].removeprefix("RUN "))
    env = {}
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "python", words
    return env, [sys.executable, *words[1:]]


@dataclass
class GunicornDemo:
    server: ServerProcess
    port: int
    workers: list[int]
    static_root: Path


def deploy_env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="0",  # as the image's ENV
        DJANGO_SECRET_KEY="deploy-test-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        ASGI_DASH_DEMO_DB=str(tmp_path / "data" / "demo.sqlite3"),
        REDIS_URL=redis_url,
    )
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[GunicornDemo]:
    tmp_path = tmp_path_factory.mktemp("gunicorn-demo")
    env = deploy_env(tmp_path, redis_url)
    step_env, step_args = collectstatic_step()
    subprocess.run(step_args, env={**env, **step_env}, cwd=REPO, check=True, timeout=120)
    server = ServerProcess(local_cmd(), env, REPO)
    workers: list[int] = []
    try:
        port = int(server.wait_for(LISTENING)[0].group(1))
        workers = [int(m.group(1)) for m in server.wait_for(BOOTED, count=2)]
        # Each worker imports the app (and migrates under the demo's lock) before it serves.
        ready = {int(m.group(1)) for m in server.wait_for(READY, count=2)}
        assert ready == set(workers), server.output
        yield GunicornDemo(server, port, workers, Path(env["DJANGO_STATIC_ROOT"]))
    finally:
        server.stop(children=workers)


def test_two_uvicorn_workers_forked_by_the_master(demo: GunicornDemo) -> None:
    assert "Using worker: uvicorn_worker.UvicornWorker" in demo.server.output
    assert len(set(demo.workers)) == 2
    for pid in demo.workers:
        stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        assert int(stat[1]) == demo.server.pid  # the parent pid: gunicorn's master


def test_html_page_and_whitenoise_static_file(demo: GunicornDemo) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{demo.port}", timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        # CompressedManifestStaticFilesStorage: {% static %} names the hashed copy.
        match = re.search(r'href="(/static/demoapp/demo\.([0-9a-f]{12})\.css)"', page.text)
        assert match, page.text[:500]
        css = client.get(match.group(1), headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200
        assert css.headers["content-encoding"] == "gzip"  # the precompressed .gz variant
        assert "immutable" in css.headers["cache-control"]
        assert "max-age=315360000" in css.headers["cache-control"]
        assert css.headers["vary"] == "Accept-Encoding"
        collected = demo.static_root / "demoapp" / f"demo.{match.group(2)}.css"
        assert css.content == collected.read_bytes()  # httpx decoded the gzip body
        chat_page = client.get("/chat/lobby/")
        assert chat_page.status_code == 200
        assert re.search(r'src="/static/demoapp/chat\.[0-9a-f]{12}\.js"', chat_page.text)


async def _clients_on_both_workers(
    demo: GunicornDemo,
) -> tuple[list[ChatClient], ChatClient, ChatClient]:
    clients: list[ChatClient] = []
    while len(clients) < MAX_CHAT_CLIENTS:
        client = await join_chat(f"client{len(clients)}", demo.port, "deploy", demo.workers)
        assert client.server_pid in demo.workers, client.server_pid
        clients.append(client)
        pids = {c.server_pid for c in clients}
        if len(pids) == 2:
            first = clients[0]
            other = next(c for c in clients if c.server_pid != first.server_pid)
            return clients, first, other
    raise AssertionError(f"{MAX_CHAT_CLIENTS} connections all landed on one worker")


async def test_chat_between_clients_on_the_two_workers(demo: GunicornDemo) -> None:
    clients, alice, bob = await _clients_on_both_workers(demo)
    try:
        for sender in (alice, bob):
            text = f"from {sender.name} on worker {sender.server_pid}"
            await sender.say(text)
            # Every member of the room gets it, whichever worker holds it (through Redis).
            for receiver in clients:
                got = await receiver.next_message()
                assert got == {"message": text, "user": "anonymous", "room": "deploy"}
    finally:
        for client in clients:
            await client.ws.close()
    print(
        f"\n{len(clients)} chat clients; {alice.name} on pid {alice.server_pid}, "
        f"{bob.name} on pid {bob.server_pid}: each received the other's message"
    )


def test_stop_leaves_no_worker(demo: GunicornDemo) -> None:
    demo.server.stop(children=demo.workers)
    assert demo.server.process.returncode == 0, demo.server.output[-2000:]
    assert not [pid for pid in demo.workers if pid_alive(pid)]
    assert "Shutting down: Master" in demo.server.output
