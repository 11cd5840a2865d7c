"""Reload latency: time from a file write to the first response carrying the new code.

    python bench/reload.py [--edits 10] [--projects demo,startproject] [--json out.json]

Servers compared, each on its own copy of the project and its own loopback port, all running at
once and edited in turn (interleaved, so machine load hits every server alike):

* ``asgi-dash (fork)``: ``asgi-dash --headless`` (the warm-process fast path),
* ``asgi-dash (respawn)``: the same with ``ASGI_DASH_NO_FORK=1`` (a fresh interpreter per reload),
* ``uvicorn --reload``: the baseline (Uvicorn's CLI with its watchfiles reloader),
* ``runserver``: ``manage.py runserver`` (Django's StatReloader unless pywatchman is installed).

Per edit: rewrite the view so its body carries a new token, then GET the URL on a fresh
connection every 5 ms until the token comes back (bounded: 20 s, counted as a timeout). Template
edits (demo only) are timed the same way. Medians and ratios to ``uvicorn --reload`` are printed.
Only processes this script started are stopped, by their own PID (their process group).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
POLL_S = 0.005
EDIT_TIMEOUT_S = 20.0
SETTLE_S = 1.5  # between edits: old generations drain, post-reload checks run

STARTPROJECT_VIEW = (
    "from django.http import HttpResponse\n\n\n"
    'def hello(request):\n    return HttpResponse("{token}")\n'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 2.0) -> tuple[int, str] | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    except OSError:
        return None
    finally:
        conn.close()


@dataclass
class Project:
    """A copy of a project plus how to edit its view and template."""

    kind: str
    root: Path
    settings: str
    asgi: str
    view_file: Path
    view_path: str
    env: dict[str, str]
    template_file: Path | None = None
    template_path: str = ""

    def write_view(self, token: str) -> None:
        if self.kind == "demo":
            text = self.view_file.read_text()
            start = text.index('_slept("') + len('_slept("')
            end = text.index('"', start)
            self.view_file.write_text(text[:start] + token + text[end:])
        else:
            self.view_file.write_text(STARTPROJECT_VIEW.format(token=token))

    def write_template(self, token: str) -> None:
        assert self.template_file is not None
        text = self.template_file.read_text()
        start = text.index("<h1>") + len("<h1>")
        end = text.index("</h1>", start)
        self.template_file.write_text(text[:start] + token + text[end:])


def make_demo(dest: Path) -> Project:
    root = dest / "demo"
    shutil.copytree(REPO / "demo_project", root, ignore=shutil.ignore_patterns("__pycache__"))
    return Project(
        "demo",
        root,
        "demosite.settings",
        "demosite.asgi:application",
        root / "demoapp/views.py",
        "/sync/?ms=0",
        {"ASGI_DASH_DEMO_DB": str(dest / "demo.sqlite3")},
        root / "demoapp/templates/demoapp/items.html",
        "/template/",
    )


def make_startproject(dest: Path) -> Project:
    root = dest / "site"
    root.mkdir()
    subprocess.run(
        [PY, "-m", "django", "startproject", "mysite", str(root)], check=True, timeout=60
    )
    (root / "mysite/views.py").write_text(STARTPROJECT_VIEW.format(token="start"))
    urls = root / "mysite/urls.py"
    urls.write_text(
        urls.read_text()
        .replace(
            "from django.urls import path", "from django.urls import path\n\nfrom . import views"
        )
        .replace("urlpatterns = [", 'urlpatterns = [\n    path("hello/", views.hello),')
    )
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=root, check=True, timeout=120)
    return Project(
        "startproject",
        root,
        "mysite.settings",
        "mysite.asgi:application",
        root / "mysite/views.py",
        "/hello/",
        {},
    )


@dataclass
class Server:
    name: str
    project: Project
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    view_ms: list[float] = field(default_factory=list)
    template_ms: list[float] = field(default_factory=list)

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(self.project.env)
        root, port = str(self.project.root), str(self.port)
        if self.name.startswith("asgi-dash"):
            if "respawn" in self.name:
                env["ASGI_DASH_NO_FORK"] = "1"
            env["PYTHONPATH"] = str(REPO)
            return [PY, "-m", "asgi_dashboard", root, "--headless", "--port", port], env
        if self.name == "uvicorn --reload":
            return [
                PY, "-m", "uvicorn", self.project.asgi, "--reload", "--reload-dir", root,
                "--app-dir", root, "--port", port, "--no-access-log", "--log-level", "warning",
            ], env  # fmt: skip
        return [PY, "manage.py", "runserver", f"127.0.0.1:{port}"], env

    def start(self) -> None:
        cmd, env = self.command()
        self.process = subprocess.Popen(
            cmd,
            cwd=self.project.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: stopped below by its own PID
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if get(self.port, self.project.view_path) is not None:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not answer within {timeout} s")

    def measure(
        self, path: str, token: str, write: object, timeout: float = EDIT_TIMEOUT_S
    ) -> float:
        t0 = time.perf_counter()
        write(token)  # type: ignore[operator]
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            result = get(self.port, path)
            if result is not None and token in result[1]:
                return (time.perf_counter() - t0) * 1000
            time.sleep(POLL_S)
        return float("nan")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Its own process group (start_new_session), led by the PID we started.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


NAMES = ("asgi-dash (fork)", "asgi-dash (respawn)", "uvicorn --reload", "runserver")


def median(values: list[float]) -> float:
    ok = [v for v in values if v == v]
    return statistics.median(ok) if ok else float("nan")


def run_project(kind: str, edits: int, template_edits: int, tmp: Path) -> list[Server]:
    servers = []
    for name in NAMES:
        folder = tmp / f"{kind}-{name.split()[0]}-{len(servers)}"
        folder.mkdir()
        project = make_demo(folder) if kind == "demo" else make_startproject(folder)
        servers.append(Server(name, project))
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        time.sleep(3)  # asgi-dash builds its warm process after the first start
        for i in range(edits):
            for server in servers:
                token = f"edit{i}x{server.port}"
                ms = server.measure(server.project.view_path, token, server.project.write_view)
                server.view_ms.append(ms)
                print(f"  {kind:12} {server.name:20} edit {i + 1}: {ms:8.1f} ms", flush=True)
                time.sleep(SETTLE_S)
        if kind == "demo":
            for i in range(template_edits):
                for server in servers:
                    if server.name == "uvicorn --reload" and i > 0:
                        continue  # never served (Django caches templates): measured once
                    token = f"tmpl{i}x{server.port}"
                    write = server.project.write_template
                    # Render it first: the edit must replace a template Django has cached.
                    get(server.port, server.project.template_path)
                    timeout = 5.0 if server.name == "uvicorn --reload" else EDIT_TIMEOUT_S
                    ms = server.measure(server.project.template_path, token, write, timeout)
                    server.template_ms.append(ms)
                    print(f"  {kind:12} {server.name:20} template {i + 1}: {ms:8.1f} ms")
                    time.sleep(SETTLE_S)
    finally:
        for server in servers:
            server.stop()
    return servers


def report(results: dict[str, list[Server]]) -> str:
    lines = [
        "| project | server | view edit median (ms) | vs uvicorn --reload "
        "| template edit median (ms) | edits |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for kind, servers in results.items():
        base = median(next(s for s in servers if s.name == "uvicorn --reload").view_ms)
        for s in servers:
            m = median(s.view_ms)
            t = median(s.template_ms) if s.template_ms else None
            template = "-" if t is None else ("never" if t != t else f"{t:.0f}")
            lines.append(
                f"| {kind} | {s.name} | {m:.0f} | {m / base:.2f}x | {template} | {len(s.view_ms)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--template-edits", type=int, default=10)
    parser.add_argument("--projects", default="demo,startproject")
    parser.add_argument("--json", help="also write raw timings here")
    args = parser.parse_args()
    results: dict[str, list[Server]] = {}
    with tempfile.TemporaryDirectory(prefix="asgi-dash-bench-") as tmp:
        for kind in args.projects.split(","):
            print(f"{kind}: {args.edits} edits per server, interleaved", flush=True)
            results[kind] = run_project(kind, args.edits, args.template_edits, Path(tmp))
    print()
    print(report(results))
    if args.json:
        raw = {
            k: {s.name: {"view_ms": s.view_ms, "template_ms": s.template_ms} for s in v}
            for k, v in results.items()
        }
        Path(args.json).write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
