"""Reload latency: time from a file write to the first response carrying the new code.

    python bench/reload.py [--starts 10] [--edits 20] [--first-edit-after 3]
                           [--projects startproject,demo] [--servers fork,uvicorn,respawn,runserver]
                           [--json out.json]

Every server runs on its own copy of the project and its own loopback port; they are started
together and edited in turn (interleaved), so load on the machine hits every server alike:

* ``fork``: ``asgi-dash PATH --headless`` (the warm-process fast path),
* ``respawn``: the same with ``ASGI_DASH_NO_FORK=1`` (a fresh interpreter per reload),
* ``uvicorn``: ``uvicorn <project>.asgi:application --reload``, the baseline,
* ``runserver``: ``manage.py runserver`` (Django's StatReloader unless pywatchman is installed).

The project ``startproject`` is a stock ``django-admin startproject mysite`` with one small app
(``manage.py startapp polls``: a model, migrated, and a view that the URLconf includes); the view
file ``polls/views.py`` is the file edited. ``demo`` is this repository's demo project (a view
edit and, with ``--template-edits``, template edits).

Two kinds of edits, both counted in the target:

* **first edit after start**: ``--starts`` rounds; each round starts every server fresh, waits
  for its first response, waits ``--first-edit-after`` seconds (a user reading the page), and
  edits the view once;
* **later edits**: ``--edits`` more edits, spread over the same rounds after their first edit,
  ``SETTLE_S`` apart.

Per edit: rewrite the view so its body carries a new token, then GET the URL on a fresh
connection every ``POLL_S`` until the token comes back (bounded: 20 s, counted as a timeout).
p50 and p95 per server and kind, and ratios to ``uvicorn --reload`` measured in the same run, are
printed. asgi-dash runs with ``ASGI_DASH_TRACE`` set: each process on the reload path writes step
timestamps (``asgi_dashboard/runtime/trace.py``), from which the script prints where the
milliseconds go (medians per step). Only processes this script started are stopped, by their own
PID (their process group).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
POLL_S = 0.003
EDIT_TIMEOUT_S = 20.0
SETTLE_S = 1.5  # between edits: old generations drain, post-reload checks run

POLLS_VIEW = (
    "from django.http import HttpResponse\n\n"
    "from .models import Question\n\n\n"
    "def index(request):\n"
    '    return HttpResponse("{token} " + str(Question.objects.count()))\n'
)
POLLS_MODELS = (
    "from django.db import models\n\n\n"
    "class Question(models.Model):\n"
    "    question_text = models.CharField(max_length=200)\n"
    '    pub_date = models.DateTimeField("date published")\n'
)
POLLS_URLS = (
    "from django.urls import path\n\nfrom . import views\n\n"
    'urlpatterns = [path("", views.index, name="index")]\n'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
            self.view_file.write_text(POLLS_VIEW.format(token=token))

    def write_template(self, token: str) -> None:
        assert self.template_file is not None
        text = self.template_file.read_text()
        start = text.index("<h1>") + len("<h1>")
        end = text.index("</h1>", start)
        self.template_file.write_text(text[:start] + token + text[end:])


def make_demo(dest: Path) -> Project:
    root = dest / "demo"
    demo = REPO / "asgi_dashboard" / "demo"
    shutil.copytree(demo, root, ignore=shutil.ignore_patterns("__pycache__"))
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
    """``django-admin startproject mysite`` + ``startapp polls`` (a model and a view), migrated."""
    root = dest / "site"
    root.mkdir()
    run = {"check": True, "timeout": 120, "cwd": root}
    subprocess.run([PY, "-m", "django", "startproject", "mysite", str(root)], **run)  # type: ignore[call-overload]
    subprocess.run([PY, "manage.py", "startapp", "polls"], **run)  # type: ignore[call-overload]
    (root / "polls/models.py").write_text(POLLS_MODELS)
    (root / "polls/views.py").write_text(POLLS_VIEW.format(token="start"))
    (root / "polls/urls.py").write_text(POLLS_URLS)
    settings = root / "mysite/settings.py"
    settings.write_text(
        settings.read_text().replace("INSTALLED_APPS = [", 'INSTALLED_APPS = [\n    "polls",')
    )
    urls = root / "mysite/urls.py"
    urls.write_text(
        urls.read_text()
        .replace("from django.urls import path", "from django.urls import include, path")
        .replace("urlpatterns = [", 'urlpatterns = [\n    path("polls/", include("polls.urls")),')
    )
    subprocess.run([PY, "manage.py", "makemigrations", "polls", "-v", "0"], **run)  # type: ignore[call-overload]
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], **run)  # type: ignore[call-overload]
    return Project(
        "startproject",
        root,
        "mysite.settings",
        "mysite.asgi:application",
        root / "polls/views.py",
        "/polls/",
        {},
    )


@dataclass
class Edit:
    kind: str  # "first" or "later"
    ms: float
    write_ns: int
    served_ns: int
    #: Step name -> ms, from the trace (asgi-dash only; filled by breakdown()).
    steps: dict[str, float] = field(default_factory=dict)


@dataclass
class Server:
    name: str
    project: Project
    trace: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    edits: list[Edit] = field(default_factory=list)
    template_ms: list[float] = field(default_factory=list)

    #: Another checkout of asgi-dash to run instead of this one (``--before``).
    source: Path | None = None

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def command(self) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(self.project.env)
        root, port = str(self.project.root), str(self.port)
        if self.name in ("fork", "respawn", "before"):
            if self.name == "respawn":
                env["ASGI_DASH_NO_FORK"] = "1"
            if self.trace is not None:
                env["ASGI_DASH_TRACE"] = str(self.trace)
            env["PYTHONPATH"] = str(self.source or REPO)
            return [PY, "-m", "asgi_dashboard", root, "--headless", "--port", port], env
        if self.name == "uvicorn":
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
            time.sleep(0.02)
        raise TimeoutError(f"{self.name} did not answer within {timeout} s")

    def measure(
        self, path: str, token: str, write: Callable[[str], None], timeout: float = EDIT_TIMEOUT_S
    ) -> tuple[float, int, int]:
        t0 = time.perf_counter_ns()
        write(token)
        deadline = t0 + int(timeout * 1e9)
        while time.perf_counter_ns() < deadline:
            result = get(self.port, path)
            if result is not None and token in result[1]:
                t1 = time.perf_counter_ns()
                return (t1 - t0) / 1e6, t0, t1
            time.sleep(POLL_S)
        return float("nan"), t0, 0

    def edit(self, kind: str, token: str) -> float:
        ms, t0, t1 = self.measure(self.project.view_path, token, self.project.write_view)
        self.edits.append(Edit(kind, ms, t0, t1))
        return ms

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


LABELS = {
    "fork": "asgi-dash (fork)",
    "before": "asgi-dash (fork), --before tree",
    "respawn": "asgi-dash (respawn)",
    "uvicorn": "uvicorn --reload",
    "runserver": "runserver",
}


def quantile(values: list[float], q: float) -> float:
    """Linear-interpolated quantile (``statistics.quantiles`` method "inclusive"); nan if empty.

    A timed-out edit (nan) counts as infinitely slow: it is never dropped from a p95."""
    if not values:
        return float("nan")
    data = sorted(math.inf if v != v else v for v in values)
    if len(data) == 1:
        return data[0]
    pos = q * (len(data) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    if math.isinf(data[high]):
        return math.inf
    return data[low] + (data[high] - data[low]) * (pos - low)


def run_project(
    kind: str,
    names: list[str],
    before: Path | None,
    starts: int,
    edits: int,
    template_edits: int,
    pause: float,
    tmp: Path,
) -> list[Server]:
    servers = []
    for name in names:
        folder = tmp / f"{kind}-{name}"
        folder.mkdir()
        project = make_demo(folder) if kind == "demo" else make_startproject(folder)
        trace = folder / "trace.log" if name in ("fork", "respawn", "before") else None
        servers.append(Server(name, project, trace, source=before if name == "before" else None))
    per_round = [edits // starts + (1 if r < edits % starts else 0) for r in range(starts)]
    counter = 0
    for r in range(starts):
        # Rotate who goes first, so no server always edits right after a start.
        order = servers[r % len(servers) :] + servers[: r % len(servers)]
        try:
            for server in order:
                server.start()
            for server in order:
                server.wait_ready()
            time.sleep(pause)
            for i in range(1 + per_round[r]):
                for server in order:
                    counter += 1
                    token = f"edit{counter}x{server.port}"
                    which = "first" if i == 0 else "later"
                    ms = server.edit(which, token)
                    print(f"  {kind:12} {server.label:20} round {r + 1} {which:5}: {ms:8.1f} ms")
                    time.sleep(SETTLE_S)
            if kind == "demo" and r == starts - 1:
                for i in range(template_edits):
                    for server in order:
                        if server.name == "uvicorn" and i > 0:
                            continue  # never served (Django caches templates): measured once
                        token = f"tmpl{i}x{server.port}"
                        # Render it first: the edit must replace a template Django has cached.
                        get(server.port, server.project.template_path)
                        timeout = 5.0 if server.name == "uvicorn" else EDIT_TIMEOUT_S
                        ms, _, _ = server.measure(
                            server.project.template_path,
                            token,
                            server.project.write_template,
                            timeout,
                        )
                        server.template_ms.append(ms)
                        print(f"  {kind:12} {server.label:20} template {i + 1}: {ms:8.1f} ms")
                        time.sleep(SETTLE_S)
        finally:
            for server in order:
                server.stop()
    return servers


# -- where the time goes ------------------------------------------------------------------------

STEPS = (
    ("write -> watcher batch", "write", "detected"),
    ("batch -> warm gets fork request", "detected", "warm-fork-request"),
    ("fork request -> child runs", "warm-fork-request", "child-run"),
    ("child: threads, pipes, project", "child-run", "django-loaded"),
    ("child: URLconf + views import", "django-loaded", "urlconf-imported"),
    ("child: instrument the app", "urlconf-imported", "app-ready"),
    ("child: event loop + Uvicorn listening", "app-ready", "listening"),
    ("listening -> first request in", "listening", "first-request"),
    ("first request -> response starts", "first-request", "first-response"),
    ("response starts -> bench has it", "first-response", "served"),
    ("old generation: stop -> exit", "stop-received", "exit"),
)
CHILD_STEPS = (
    "child-run",
    "django-loaded",
    "urlconf-imported",
    "app-ready",
    "listening",
    "first-request",
    "first-response",
)


def read_trace(path: Path) -> list[tuple[int, int, str]]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        ns, pid, step = line.split()
        lines.append((int(ns), int(pid), step))
    return sorted(lines)


def breakdown(server: Server) -> dict[str, list[float]]:
    """Per step, the milliseconds of each traced edit (served edits only)."""
    lines = read_trace(server.trace) if server.trace else []
    steps: dict[str, list[float]] = {name: [] for name, _, _ in STEPS}
    steps["old generation: stop -> exit"] = []
    for edit in server.edits:
        if not edit.served_ns:
            continue
        window = [x for x in lines if edit.write_ns <= x[0] <= edit.served_ns + int(2e9)]
        at: dict[str, int] = {"write": edit.write_ns, "served": edit.served_ns}
        detected = next((ns for ns, _, s in window if s == "detected"), None)
        if detected is None:
            continue
        at["detected"] = detected
        for ns, _, step in window:
            if step == "warm-fork-request" and ns >= detected:
                at.setdefault(step, ns)
        new_pid = next((p for ns, p, s in window if s == "child-run" and ns >= detected), None)
        for ns, pid, step in window:
            if pid == new_pid and step in CHILD_STEPS:
                at.setdefault(step, ns)
        old = [(ns, p) for ns, p, s in window if s == "stop-received" and p != new_pid]
        if old:
            stop_ns, old_pid = old[0]
            exit_ns = next((ns for ns, p, s in window if p == old_pid and s == "exit"), None)
            if exit_ns is not None:
                edit.steps["old generation: stop -> exit"] = (exit_ns - stop_ns) / 1e6
        for name, a, b in STEPS[:-1]:
            if a in at and b in at:
                edit.steps[name] = (at[b] - at[a]) / 1e6
        for name, ms in edit.steps.items():
            steps[name].append(ms)
    return steps


def slowest(server: Server, count: int) -> list[str]:
    """The ``count`` slowest edits of a traced server, each with its steps."""
    edits = sorted((e for e in server.edits if e.steps), key=lambda e: -e.ms)[:count]
    return [
        f"{e.kind} edit {e.ms:.0f} ms: " + ", ".join(f"{k} {v:.0f}" for k, v in e.steps.items())
        for e in edits
    ]


def fmt(value: float) -> str:
    return "timeout" if math.isinf(value) else ("-" if value != value else f"{value:.0f}")


def report(results: dict[str, list[Server]]) -> str:
    lines = [
        "| project | server | first edit p50 / p95 (ms) | later edits p50 / p95 (ms) "
        "| all edits p50 / p95 (ms) | p95 vs uvicorn --reload | p50 vs uvicorn | edits |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, servers in results.items():
        base = next((s for s in servers if s.name == "uvicorn"), None)
        base_all = [e.ms for e in base.edits] if base else []
        for s in servers:
            first = [e.ms for e in s.edits if e.kind == "first"]
            later = [e.ms for e in s.edits if e.kind == "later"]
            every = first + later
            p50, p95 = quantile(every, 0.5), quantile(every, 0.95)
            r95 = p95 / quantile(base_all, 0.95) if base_all else float("nan")
            r50 = p50 / quantile(base_all, 0.5) if base_all else float("nan")
            lines.append(
                f"| {kind} | {s.label} "
                f"| {fmt(quantile(first, 0.5))} / {fmt(quantile(first, 0.95))} "
                f"| {fmt(quantile(later, 0.5))} / {fmt(quantile(later, 0.95))} "
                f"| {fmt(p50)} / {fmt(p95)} | {r95:.3f}x | {r50:.3f}x "
                f"| {len(first)} + {len(later)} |"
            )
        templates = [s for s in servers if s.template_ms]
        for s in templates:
            m = quantile(s.template_ms, 0.5)
            lines.append(f"| {kind} | {s.label} template edit p50 | {fmt(m)} | | | | | |")
    for kind, servers in results.items():
        for s in servers:
            if s.trace is None:
                continue
            steps = breakdown(s)
            lines += ["", f"Where the time goes: {kind}, {s.label} (ms per traced edit)", ""]
            lines += ["| step | p50 | p95 | n |", "|---|---:|---:|---:|"]
            for name, values in steps.items():
                if values:
                    lines.append(
                        f"| {name} | {quantile(values, 0.5):.1f} | {quantile(values, 0.95):.1f} "
                        f"| {len(values)} |"
                    )
            if any(values for values in steps.values()):
                lines += ["", "Slowest edits:", *(f"* {row}" for row in slowest(s, 3))]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--starts", type=int, default=10, help="fresh starts (one first edit each)")
    parser.add_argument("--edits", type=int, default=20, help="later edits, over the same starts")
    parser.add_argument("--first-edit-after", type=float, default=3.0, help="s after first answer")
    parser.add_argument("--template-edits", type=int, default=0, help="demo project only")
    parser.add_argument("--projects", default="startproject")
    parser.add_argument("--servers", default="fork,uvicorn")
    parser.add_argument("--json", help="also write raw timings here")
    parser.add_argument(
        "--before",
        type=Path,
        help="another asgi-dash source tree (e.g. `git archive REV | tar -x -C DIR`), run as "
        "server 'before' alongside this one",
    )
    args = parser.parse_args()
    names = args.servers.split(",")
    if args.before is not None and "before" not in names:
        names.insert(1, "before")
    unknown = set(names) - set(LABELS)
    if unknown:
        parser.error(f"unknown servers {sorted(unknown)}; choose from {sorted(LABELS)}")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    results: dict[str, list[Server]] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="asgi-dash-bench-") as tmp:
        for kind in args.projects.split(","):
            print(
                f"{kind}: {args.starts} starts, {args.edits} later edits, interleaved", flush=True
            )
            results[kind] = run_project(
                kind,
                names,
                args.before,
                args.starts,
                args.edits,
                args.template_edits,
                args.first_edit_after,
                Path(tmp),
            )
        text = report(results)
        if args.json:
            raw = {
                k: {
                    s.label: {
                        "first_ms": [e.ms for e in s.edits if e.kind == "first"],
                        "later_ms": [e.ms for e in s.edits if e.kind == "later"],
                        "template_ms": s.template_ms,
                        "edits": [
                            {"kind": e.kind, "ms": e.ms, "steps_ms": e.steps} for e in s.edits
                        ],
                    }
                    for s in v
                }
                for k, v in results.items()
            }
            Path(args.json).write_text(json.dumps(raw, indent=2))
    load = os.getloadavg()
    print()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; ", end="")
    print(f"{time.monotonic() - started:.0f} s; {os.cpu_count()} CPUs")
    print(text)


if __name__ == "__main__":
    main()
