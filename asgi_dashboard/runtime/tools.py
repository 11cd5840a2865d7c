"""One-shot helpers run against the user's project in a short-lived subprocess, printing JSON.

``python -m asgi_dashboard.runtime.tools routes|users|session USER --project-dir D --settings S``

* ``routes``: the WebSocket routes behind the project's ASGI application, found by walking it:
  Channels' ``ProtocolTypeRouter`` (``application_mapping["websocket"]``) -> middleware layers
  (anything with ``.inner``, e.g. ``AuthMiddlewareStack``; ``OriginValidator.application``) ->
  ``URLRouter.routes``, nested routers included (Channels rejects ``include()`` in a URLRouter,
  see ``channels/routing.py``, so nesting is always a ``URLRouter`` as a route's callback).
* ``users``: the project's usernames, for "connect as".
* ``session USER``: a new, logged-in session for USER, made the way
  ``django.contrib.auth.login`` fills one, so that Channels' ``AuthMiddlewareStack``
  (``channels.auth.get_user``) finds the user in it. No password is involved: this is a
  development tool, and the UI says that it creates a session.

Why a subprocess: the dashboard process never imports the project (its import errors and its
``django.setup()`` belong to a server process), and each call sees the code as it is on disk now.

The parent side is :func:`run_tool`: bounded by a timeout, it returns the printed JSON. Nothing
here imports Textual; Django is imported inside the commands only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

#: Layers a walk goes through before giving up (a cycle, or a very odd stack).
MAX_DEPTH = 32
#: Users listed at most (the UI offers a text field for the rest).
MAX_USERS = 500


class ToolError(Exception):
    """A tool failed; ``message`` says what to do."""


# --------------------------------------------------------------------------------------------
# Route discovery (pure: takes the app object; unit tests build apps without a server)
# --------------------------------------------------------------------------------------------


def dotted(obj: Any) -> str:
    """``module.QualName`` of a class, or of an instance's class."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _pattern_text(pattern: Any) -> tuple[str, bool]:
    """(the pattern as written, is_regex) for Django's RoutePattern / RegexPattern."""
    route = getattr(pattern, "_route", None)
    if isinstance(route, str):
        return route, False
    regex = getattr(pattern, "_regex", None)
    if isinstance(regex, str):
        return regex, True
    return str(pattern), False


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>")


def _params(text: str, is_regex: bool) -> list[dict[str, str]]:
    if is_regex:
        return [{"name": m["name"], "converter": "regex"} for m in _REGEX_GROUP.finditer(text)]
    return [
        {"name": m["name"], "converter": m["conv"] or "str"} for m in _ROUTE_PARAM.finditer(text)
    ]


def _strip_group(text: str, start: int) -> int:
    """Index just past the group that opens at ``start`` (balanced parentheses)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _template(text: str, is_regex: bool) -> str:
    """A fill-in template: ``chat/<slug:room>/`` -> ``chat/{room}/`` (best effort for regex)."""
    if not is_regex:
        return _ROUTE_PARAM.sub(lambda m: "{" + m["name"] + "}", text)
    out: list[str] = []
    i = 0
    body = text.removeprefix("^").removesuffix("$")
    while i < len(body):
        m = _REGEX_GROUP.match(body, i)
        if m:
            out.append("{" + m["name"] + "}")
            i = _strip_group(body, i)
            continue
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        if ch not in "?*+^$":
            out.append(ch)
        i += 1
    return "".join(out)


def _unwrap(app: Any, chain: list[str]) -> Any:
    """Follow middleware layers down to a URLRouter, a consumer, or something opaque."""
    for _ in range(MAX_DEPTH):
        if hasattr(app, "routes") and getattr(app, "_path_routing", False):
            return app  # channels.routing.URLRouter
        if hasattr(app, "consumer_class"):
            return app  # Consumer.as_asgi()
        inner = getattr(app, "inner", None)
        if inner is None:
            inner = getattr(app, "application", None)
        if inner is None or inner is app:
            return app
        chain.append(dotted(app))
        app = inner
    return app


def _walk_router(
    router: Any,
    prefix: str,
    prefix_params: list[dict[str, str]],
    prefix_template: str,
    out: list[dict[str, Any]],
    depth: int = 0,
) -> None:
    for route in getattr(router, "routes", ()):
        text, is_regex = _pattern_text(route.pattern)
        pattern = prefix + text
        params = prefix_params + _params(text, is_regex)
        template = prefix_template + _template(text, is_regex)
        chain: list[str] = []
        target = _unwrap(getattr(route, "callback", None), chain)
        if getattr(target, "_path_routing", False) and depth < MAX_DEPTH:
            _walk_router(target, pattern, params, template, out, depth + 1)
            continue
        consumer_class = getattr(target, "consumer_class", None)
        if consumer_class is not None:
            consumer = dotted(consumer_class)
        elif target is None:
            consumer = None
        elif hasattr(target, "__qualname__"):
            consumer = f"{target.__module__}.{target.__qualname__}"  # a plain ASGI function
        else:
            consumer = dotted(target)
        out.append(
            {
                "pattern": pattern,
                "regex": is_regex,
                "path": "/" + template.lstrip("/"),
                "consumer": consumer,
                "params": params,
                "name": getattr(route, "name", None),
                "middleware": chain,
            }
        )


def discover_routes(app: Any) -> dict[str, Any]:
    """The WebSocket routes behind an ASGI application (see the module docstring)."""
    chain: list[str] = []
    top = app
    # Our own wrappers (static files) and any outer middleware first.
    for _ in range(MAX_DEPTH):
        mapping = getattr(top, "application_mapping", None)
        if isinstance(mapping, dict):
            break
        inner = getattr(top, "application", None) or getattr(top, "inner", None)
        if inner is None:
            break
        chain.append(dotted(top))
        top = inner
    mapping = getattr(top, "application_mapping", None)
    result: dict[str, Any] = {
        "routes": [],
        "middleware": [],
        "origin_check": False,
        "auth": False,
        "note": None,
    }
    if not isinstance(mapping, dict):
        result["note"] = (
            f"{dotted(app)} is not a Channels ProtocolTypeRouter: the project serves no "
            "WebSocket routes through Channels (any ws:// URL can still be typed)."
        )
        return result
    ws_app = mapping.get("websocket")
    if ws_app is None:
        result["note"] = "The ProtocolTypeRouter has no 'websocket' entry."
        return result
    router = _unwrap(ws_app, chain)
    result["middleware"] = chain
    names = " ".join(chain)
    result["origin_check"] = "OriginValidator" in names
    result["auth"] = "AuthMiddleware" in names
    routes: list[dict[str, Any]] = []
    if getattr(router, "_path_routing", False):
        _walk_router(router, "", [], "", routes)
    elif hasattr(router, "consumer_class"):
        routes.append(
            {
                "pattern": "",
                "regex": False,
                "path": "/",
                "params": [],
                "name": None,
                "consumer": dotted(router.consumer_class),
                "middleware": [],
            }
        )
    else:
        result["note"] = f"The websocket application {dotted(router)} has no URLRouter to read."
    for r in routes:
        r["origin_check"] = result["origin_check"] or any(
            "OriginValidator" in m for m in r["middleware"]
        )
        r["auth"] = result["auth"] or any("AuthMiddleware" in m for m in r["middleware"])
    result["routes"] = routes
    return result


# --------------------------------------------------------------------------------------------
# Commands (run in the tool subprocess)
# --------------------------------------------------------------------------------------------


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
    p = argparse.ArgumentParser(prog="python -m asgi_dashboard.runtime.tools")
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


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


async def run_tool(
    command: str,
    *args: str,
    project_dir: str,
    settings_module: str,
    app: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Run one tool command in a subprocess; its JSON, or ``{"error": ...}``. Bounded."""
    argv = [
        sys.executable,
        "-m",
        "asgi_dashboard.runtime.tools",
        command,
        *args,
        "--project-dir",
        str(project_dir),
        "--settings",
        settings_module,
    ]
    if app:
        argv += ["--app", app]
    child_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    child_env.update(env or {})
    # The package must be importable from the project's folder too.
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_root, child_env.get("PYTHONPATH", "")) if p
    )
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(project_dir),
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return {"error": f"Could not start the tool: {exc}", "phase": command}
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        return {"error": f"'{command}' did not finish in {timeout:g} s.", "phase": command}
    lines = out.decode(errors="replace").strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return {
            "error": f"'{command}' failed (exit {proc.returncode}): " + " ".join(tail),
            "phase": command,
        }
    return data


if __name__ == "__main__":
    main()
