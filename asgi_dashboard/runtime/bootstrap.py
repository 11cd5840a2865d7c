"""Load a Django project in the server process: settings, ``django.setup()``, the ASGI app.

Shared by the child process and the in-process runtime. Every failure becomes a
:class:`ProjectLoadError` with a phase and one sentence that says what to do; the traceback
travels in the :class:`~asgi_dashboard.events.ServerFailed` event, never to the terminal.

ASGI application precedence: ``--app module:attr`` > ``settings.ASGI_APPLICATION`` >
``<project package>.asgi:application`` > ``django.core.asgi.get_asgi_application()`` (for
projects without ``asgi.py``, such as Wagtail's template).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from typing import Any

from ..events import CheckMessage, Event, ExceptionInfo, FailurePhase
from ..instrument.errors import exception_info


class ProjectLoadError(Exception):
    """The project could not be loaded. ``message`` says what to do."""

    def __init__(
        self, phase: FailurePhase, message: str, error: ExceptionInfo | None = None
    ) -> None:
        super().__init__(message)
        self.phase = phase
        self.message = message
        self.error = error


@dataclass(frozen=True, slots=True)
class LoadedProject:
    app: Any
    asgi_app: str
    asgi_app_source: str
    static_prefix: str | None
    debug: bool


def _where(exc: BaseException, project_dir: str) -> str:
    if isinstance(exc, SyntaxError):
        return ""  # str(SyntaxError) already ends with "(file.py, line n)": say it once
    info = exception_info(exc, project_dir)
    if info.frame:
        return f" ({os.path.basename(info.frame.filename)}, line {info.frame.lineno})"
    return ""


def _fail(
    phase: FailurePhase, message: str, exc: BaseException, project_dir: str
) -> ProjectLoadError:
    return ProjectLoadError(phase, message, exception_info(exc, project_dir))


def prepare_path(project_dir: str, settings_module: str) -> None:
    if project_dir not in sys.path:
        sys.path.insert(0, project_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module


def setup_django(project_dir: str, settings_module: str) -> None:
    """Import the settings and run ``django.setup()``, with clear errors for each failure."""
    prepare_path(project_dir, settings_module)
    try:
        importlib.import_module(settings_module)
    except ModuleNotFoundError as exc:
        if exc.name and settings_module.startswith(exc.name):
            raise _fail(
                "settings",
                f"Settings module '{settings_module}' was not found in {project_dir}: check "
                "--settings, DJANGO_SETTINGS_MODULE or manage.py.",
                exc,
                project_dir,
            ) from None
        raise _fail(
            "settings",
            f"Settings module '{settings_module}' failed to import: {exc}"
            f"{_where(exc, project_dir)}.",
            exc,
            project_dir,
        ) from None
    except BaseException as exc:
        raise _fail(
            "settings",
            f"Settings module '{settings_module}' raised {type(exc).__name__}: {exc}"
            f"{_where(exc, project_dir)}.",
            exc,
            project_dir,
        ) from None

    import django
    from django.conf import settings

    try:
        django.setup()
        if not getattr(settings, "ROOT_URLCONF", None):
            raise _missing_root_urlconf(settings_module)
    except ProjectLoadError:
        raise
    except BaseException as exc:
        raise _fail(
            "settings",
            f"Django could not start with '{settings_module}': {type(exc).__name__}: {exc}"
            f"{_where(exc, project_dir)}.",
            exc,
            project_dir,
        ) from None


def _missing_root_urlconf(settings_module: str) -> ProjectLoadError:
    return ProjectLoadError(
        "settings",
        f"Settings '{settings_module}' have no ROOT_URLCONF: set it to your URLconf module "
        "(e.g. ROOT_URLCONF = 'mysite.urls').",
    )


def _import_attr(spec: str, project_dir: str, source: str) -> Any:
    # "module:attr" (uvicorn style) or "module.attr" (Django's ASGI_APPLICATION style).
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ProjectLoadError(
            "import", f"'{spec}' is not an application path: use module:attribute ({source})."
        )
    try:
        module = importlib.import_module(module_name)
    except BaseException as exc:
        raise _fail(
            "import",
            f"Importing the ASGI module '{module_name}' ({source}) raised "
            f"{type(exc).__name__}: {exc}{_where(exc, project_dir)}.",
            exc,
            project_dir,
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise _fail(
            "import",
            f"'{module_name}' has no attribute '{attr}' ({source}): check the application path.",
            exc,
            project_dir,
        ) from None


def load_application(project_dir: str, settings_module: str, app_spec: str | None) -> LoadedProject:
    """Set up Django and resolve the ASGI application (not yet instrumented)."""
    setup_django(project_dir, settings_module)
    from django.conf import settings

    if app_spec:
        app, path, source = _import_attr(app_spec, project_dir, "--app"), app_spec, "--app"
    elif getattr(settings, "ASGI_APPLICATION", None):
        path = settings.ASGI_APPLICATION
        app, source = _import_attr(path, project_dir, "ASGI_APPLICATION"), "ASGI_APPLICATION"
    else:
        package = settings_module.split(".")[0]
        candidate = f"{package}.asgi"
        if importlib.util.find_spec(candidate) is not None:
            path, source = f"{candidate}:application", "project asgi.py"
            app = _import_attr(path, project_dir, source)
        else:
            from django.core.asgi import get_asgi_application

            app = get_asgi_application()
            path, source = "django.core.asgi:get_asgi_application()", "django"

    static_prefix = None
    debug = bool(settings.DEBUG)
    static_url = settings.STATIC_URL or ""
    if "django.contrib.staticfiles" in settings.INSTALLED_APPS and "://" not in static_url:
        static_prefix = "/" + static_url.lstrip("/") if static_url else None
    return LoadedProject(app, path, source, static_prefix, debug)


def wrap_static(loaded: LoadedProject, enabled: bool) -> tuple[Any, str | None]:
    """Serve static files in DEBUG the way daphne's runserver does; returns (app, prefix)."""
    if not (enabled and loaded.debug and loaded.static_prefix):
        return loaded.app, None
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    return ASGIStaticFilesHandler(loaded.app), loaded.static_prefix


def startup_checks() -> list[Event]:
    """Django's system checks and unapplied migrations, as runserver reports them, then the
    middleware audit (:mod:`asgi_dashboard.diagnostics.audit_server`)."""
    from django.core import checks

    events: list[Event] = []
    try:
        messages = checks.run_checks(include_deployment_checks=False)
    except Exception as exc:
        info = exception_info(exc)
        return [CheckMessage(level="error", message=f"System checks crashed: {info.message}")]
    levels = {
        checks.DEBUG: "debug",
        checks.INFO: "info",
        checks.WARNING: "warning",
        checks.ERROR: "error",
        checks.CRITICAL: "critical",
    }
    for msg in messages:
        if msg.is_silenced():
            continue
        level = max((lvl for lvl in levels if lvl <= msg.level), default=checks.INFO)
        events.append(
            CheckMessage(
                level=levels[level],  # type: ignore[arg-type]
                message=msg.msg,
                check_id=msg.id or "",
                hint=msg.hint,
                obj=str(msg.obj) if msg.obj is not None else None,
            )
        )
    migrations = _migrations_check()
    if migrations is not None:
        events.append(migrations)
    events.append(_middleware_audit())
    return events


def _middleware_audit() -> Event:
    """The MIDDLEWARE audit (diagnostics/audit_server.py); a bug there never stops the checks."""
    from ..diagnostics.audit_server import audit_middleware

    try:
        return audit_middleware()
    except Exception as exc:
        return CheckMessage(
            level="warning",
            check_id="asgi-dash.audit",
            message=f"Middleware audit failed: {type(exc).__name__}: {exc}",
        )


def _migrations_check() -> CheckMessage | None:
    """A warning if migrations are unapplied (as runserver's), or if they cannot be read."""
    from django.db import DEFAULT_DB_ALIAS, connections

    try:
        from django.db.migrations.executor import MigrationExecutor

        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            apps = sorted({migration.app_label for migration, _ in plan})
            return CheckMessage(
                level="warning",
                check_id="migrations",
                message=f"You have {len(plan)} unapplied migration(s) for app(s): "
                f"{', '.join(apps)}.",
                hint="Run 'python manage.py migrate' to apply them.",
            )
    except Exception as exc:
        return CheckMessage(
            level="warning",
            check_id="migrations",
            message=f"Could not check migrations: {type(exc).__name__}: {exc}",
        )
    finally:
        connections.close_all()
    return None
