"""What to run and how: :class:`DashboardConfig` and Django project discovery.

Discovery never imports the project: it reads ``manage.py`` as text, so the parent process (the
TUI) stays free of the project's code and its import errors. Importing happens in the server
process (see :mod:`asgi_dashboard.runtime.bootstrap`), where a failure becomes an event.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .envfile import EnvFile, detect, env_file_values

#: The bundled demo, used when no project is found and no PATH was given.
DEMO_DIR = Path(__file__).resolve().parent / "demo"

#: Exit codes of the headless mode (and of ``asgi-dash`` before the TUI starts).
EXIT_BAD_INPUT = 2  # wrong path, not a Django project, port in use
EXIT_PROJECT_FAILED = 3  # settings or ASGI application failed to load (same code as Uvicorn)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class DiscoveryError(Exception):
    """A project could not be found; the message is one sentence that says what to do."""


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """Everything the runtime and the UI need to know; built by the CLI, immutable after."""

    project_dir: Path
    settings_module: str
    #: "--settings", "DJANGO_SETTINGS_MODULE" or "manage.py".
    settings_source: str
    #: ``module:attr`` given with ``--app``, else None (the server process resolves it).
    app: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    in_process: bool = False
    reload: bool = True
    static: bool = True
    is_demo: bool = False
    reload_dirs: tuple[Path, ...] = ()
    reload_includes: tuple[str, ...] = ()
    reload_excludes: tuple[str, ...] = ()
    #: Seconds an in-flight request or open WebSocket gets when the server stops or restarts.
    graceful_timeout: float = 1.0
    #: A loop that does not turn for this long is reported as blocked (LoopBlocked event).
    block_threshold_ms: float = 100.0
    #: Ring-buffer size for request history in the UI.
    history: int = 5000
    #: Extra environment for the server process.
    env: dict[str, str] = field(default_factory=dict)
    #: The project's ``.env`` files, loaded into the server process's environment before the
    #: settings are imported (found by :func:`env_files_for`; ``()`` with ``--no-env-file``).
    env_files: tuple[EnvFile, ...] = ()
    #: ``--n-plus-one N``: a SQL shape issued N times from one line is flagged N+1 (0: never).
    n_plus_one: int = 5
    #: ``--no-hops``: the server records no thread-hop timeline (its cost, bench/hopcost.py).
    hops: bool = True
    #: ``--otlp [URL]``: export traces over OTLP/HTTP (see asgi_dashboard/otlp). None: off; "":
    #: the endpoint the ``OTEL_EXPORTER_OTLP_*`` variables name (default localhost:4318).
    otlp: str | None = None
    #: ``--keep-secrets`` with ``--otlp``: SQL parameters, frame previews and tracebacks too.
    otlp_keep_secrets: bool = False
    #: Server processes per generation (``--workers N``), all accepting on the one socket.
    workers: int = 1
    #: ``asgi-dash collect``: the Unix socket attached processes report to (no server is run:
    #: see runtime/collector.py); None for the dashboard that runs the project itself.
    collect_socket: str | None = None

    @property
    def mode(self) -> str:
        return "in-process" if self.in_process else "child"

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    def with_port(self, port: int) -> DashboardConfig:
        return replace(self, port=port)


def exposure_warning(host: str) -> str:
    """Said when the server listens beyond loopback (stderr when headless, the TUI's status bar)."""
    return f"listening on {host} exposes this development server to your network"


_SETDEFAULT_RE = re.compile(
    r"""os\.environ\.setdefault\(\s*['"]DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]\s*\)"""
)


def settings_from_manage_py(manage_py: Path) -> str | None:
    """The settings module that ``manage.py`` sets, read without executing it.

    Handles the stock ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")`` (also
    Wagtail's ``mysite.settings.dev``) and a plain assignment to ``os.environ[...]``.
    """
    text = manage_py.read_text(encoding="utf-8", errors="replace")
    match = _SETDEFAULT_RE.search(text)
    if match:
        return match.group(1)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        # os.environ["DJANGO_SETTINGS_MODULE"] = "x.settings"
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value == "DJANGO_SETTINGS_MODULE"
                    and isinstance(node.value.value, str)
                ):
                    return node.value.value
    return None


def discover(
    path: str | os.PathLike[str] | None,
    *,
    settings: str | None = None,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> tuple[Path, str, str, bool]:
    """Find the project: returns ``(project_dir, settings_module, settings_source, is_demo)``.

    Precedence for the settings module: ``--settings`` > ``DJANGO_SETTINGS_MODULE`` > manage.py.
    With no PATH and no manage.py in the current folder (and no explicit settings), the bundled
    demo project is used.
    """
    env = os.environ if environ is None else environ
    is_demo = False
    if path is None:
        folder = Path.cwd()
        if not (folder / "manage.py").is_file() and not settings:
            folder, is_demo = DEMO_DIR, True
    else:
        folder = Path(path).expanduser()
        if not folder.exists():
            raise DiscoveryError(f"{folder} does not exist: give the folder that holds manage.py.")
        if not folder.is_dir():
            if folder.name == "manage.py":
                folder = folder.parent
            else:
                raise DiscoveryError(f"{folder} is a file: give the folder that holds manage.py.")
    folder = folder.resolve()
    manage_py = folder / "manage.py"

    if settings:
        return folder, settings, "--settings", is_demo
    # The demo always uses its own settings: an unrelated DJANGO_SETTINGS_MODULE in the user's
    # shell must not hijack it.
    from_env = None if is_demo else env.get("DJANGO_SETTINGS_MODULE")
    if from_env:
        return folder, from_env, "DJANGO_SETTINGS_MODULE", is_demo
    if not manage_py.is_file():
        raise DiscoveryError(
            f"{folder} is not a Django project (no manage.py): run asgi-dash in the folder that "
            "holds manage.py, pass that folder, or name the settings with --settings."
        )
    found = settings_from_manage_py(manage_py)
    if not found:
        raise DiscoveryError(
            f"{manage_py} does not set DJANGO_SETTINGS_MODULE: pass --settings module.path."
        )
    return folder, found, "manage.py", is_demo


def env_files_for(
    project_dir: Path,
    settings_module: str,
    *,
    env_file: str | os.PathLike[str] | None = None,
    enabled: bool = True,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> tuple[EnvFile, ...]:
    """The ``.env`` files the server process loads: ``--env-file``, else those that
    ``manage.py`` and the settings load (:func:`.envfile.detect`), else none."""
    if not enabled:
        return ()
    if env_file is not None:
        path = Path(env_file).expanduser().resolve()
        if not path.is_file():
            raise DiscoveryError(f"--env-file {env_file} is not a file: give the .env to load.")
        return (EnvFile(path, "--env-file"),)
    return detect(project_dir, settings_module, os.environ if environ is None else environ)


def settings_from_env_files(
    files: tuple[EnvFile, ...], environ: dict[str, str] | os._Environ[str] | None = None
) -> str | None:
    """DJANGO_SETTINGS_MODULE as a ``.env`` loaded by ``manage.py`` (or ``--env-file``) sets it.

    ``manage.py`` loads its ``.env`` before ``os.environ.setdefault("DJANGO_SETTINGS_MODULE",
    ...)``, so a value in the file wins over the default written in ``manage.py``.
    """
    early = tuple(f for f in files if f.origin == "--env-file" or f.origin.startswith("manage.py"))
    if not early:
        return None
    values, _ = env_file_values(early, os.environ if environ is None else environ)
    return values.get("DJANGO_SETTINGS_MODULE") or None
