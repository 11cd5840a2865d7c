"""The project tools' server half: commands run in a short-lived subprocess that loads the project.

``python -m asgi_dashboard.runtime.tool_commands routes|users|session USER --project-dir D
--settings S`` prints one JSON object on stdout (read by the parent half, :func:`.tools.run_tool`):

* ``routes``: the WebSocket routes behind the project's ASGI application (:mod:`.ws_routes`).
* ``users``: the project's usernames, for "connect as".
* ``session USER``: a new, logged-in session for USER, made the way
  ``django.contrib.auth.login`` fills one, so that Channels' ``AuthMiddlewareStack``
  (``channels.auth.get_user``) finds the user in it. No password is involved: this is a
  development tool, and the UI says that it creates a session.

Only this process imports Django and the project; the dashboard process never imports this
module (the layer contracts in ``pyproject.toml`` check it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from .ws_routes import discover_routes

#: Users listed at most (the UI offers a text field for the rest).
MAX_USERS = 500


class ToolError(Exception):
    """A tool failed; ``message`` says what to do."""


def cmd_routes(project_dir: str, settings_module: str, app_spec: str | None) -> dict[str, Any]:
    from .bootstrap import load_application

    loaded = load_application(project_dir, settings_module, app_spec)
    result = discover_routes(loaded.app)
    result["app"] = loaded.asgi_app
    return result


def cmd_users() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    field = model.USERNAME_FIELD
    rows = model.objects.order_by(field).values_list(field, "is_active", "is_superuser")
    users = [
        {"username": str(name), "active": bool(active), "superuser": bool(su)}
        for name, active, su in rows[:MAX_USERS]
    ]
    return {"users": users, "truncated": len(users) >= MAX_USERS}


def cmd_session(username: str, create: bool) -> dict[str, Any]:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )

    model = get_user_model()
    created = False
    try:
        user = model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        if not create:
            raise ToolError(
                f"No user '{username}' in this project: pick one from the list, or create it "
                "(python manage.py createsuperuser)."
            ) from None
        user = model._default_manager.create_user(**{model.USERNAME_FIELD: username})
        user.set_unusable_password()
        user.save()
        created = True
    backends = list(settings.AUTHENTICATION_BACKENDS)
    if not backends:
        raise ToolError("settings.AUTHENTICATION_BACKENDS is empty: no user can log in.")
    # Same keys django.contrib.auth.login() writes; channels.auth.get_user() reads them back and
    # checks the backend is still configured and the hash still matches.
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = backends[0]
    if hasattr(user, "get_session_auth_hash"):
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return {
        "user": str(user.get_username()),
        "created_user": created,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "cookie_value": store.session_key,
        "backend": backends[0],
        "expires": store.get_expiry_date().isoformat(),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m asgi_dashboard.runtime.tool_commands")
    p.add_argument("command", choices=("routes", "users", "session"))
    p.add_argument("user", nargs="?", help="username (for 'session')")
    p.add_argument("--project-dir", required=True)
    p.add_argument("--settings", required=True)
    p.add_argument("--app", default=None)
    p.add_argument("--create", action="store_true", help="session: create the user if missing")
    return p


def run(argv: Sequence[str] | None = None) -> tuple[int, dict[str, Any]]:
    """Parse, run one command; (exit code, JSON-ready result). Never raises."""
    from .bootstrap import ProjectLoadError, setup_django

    args = build_parser().parse_args(argv)
    try:
        if args.command == "routes":
            return 0, cmd_routes(args.project_dir, args.settings, args.app)
        setup_django(args.project_dir, args.settings)
        if args.command == "users":
            return 0, cmd_users()
        if not args.user:
            raise ToolError("Give a username: session USER.")
        return 0, cmd_session(args.user, args.create)
    except ProjectLoadError as exc:
        return 1, {"error": exc.message, "phase": exc.phase}
    except ToolError as exc:
        return 1, {"error": str(exc), "phase": args.command}
    except Exception as exc:
        return 1, {"error": f"{type(exc).__name__}: {exc}", "phase": args.command}


def main(argv: Sequence[str] | None = None) -> None:
    # The project may print while it loads; only our JSON goes to stdout.
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        code, result = run(argv)
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
