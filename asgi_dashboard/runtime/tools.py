"""The project tools' parent half: run one tool command in a subprocess and read its JSON.

The commands themselves (WebSocket routes, users, a logged-in session) run in
:mod:`.tool_commands`, in a short-lived subprocess. :func:`run_tool` returns the printed JSON
as it is (the wire format); :func:`find_routes`, :func:`list_users` and :func:`log_in_as` read it
into the typed results the UI uses (:class:`ToolFailed` when the tool failed).

Why a subprocess: the dashboard process never imports the project (its import errors and its
``django.setup()`` belong to a server process), and each call sees the code as it is on disk
now. This module imports neither Django nor the server half, so the UI may import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

#: The module the subprocess runs (``python -m``); named, not imported.
TOOL_MODULE = "asgi_dashboard.runtime.tool_commands"


@dataclass(frozen=True, slots=True)
class ToolFailed:
    """A tool did not answer: what went wrong, said for the user, and in which step."""

    error: str
    phase: str


@dataclass(frozen=True, slots=True)
class RouteParam:
    """A URL parameter of a route: its name and Django converter (``"regex"`` for a group)."""

    name: str
    converter: str


@dataclass(frozen=True, slots=True)
class WsRoute:
    """One WebSocket route of the project (see :mod:`.ws_routes`)."""

    #: A fill-in template: ``/ws/chat/{room}/``.
    path: str
    #: Dotted path of the consumer class (or ASGI function); None when it could not be read.
    consumer: str | None = None
    params: tuple[RouteParam, ...] = ()
    name: str | None = None
    #: The pattern as written in the routing, prefixes included.
    pattern: str = ""
    #: Middleware between the router and this route's consumer, outermost first.
    middleware: tuple[str, ...] = ()
    origin_check: bool = False
    auth: bool = False


@dataclass(frozen=True, slots=True)
class RoutesFound:
    routes: tuple[WsRoute, ...]
    #: Why there are no routes (no Channels router, no websocket entry, ...), when that is so.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """A new logged-in session in the project's session store (``session USER``)."""

    user: str
    cookie_name: str
    cookie_value: str
    created_user: bool = False


def _failed(data: dict[str, Any], command: str) -> ToolFailed | None:
    if "error" in data:
        return ToolFailed(str(data["error"]), str(data.get("phase") or command))
    return None


def routes_from(data: dict[str, Any]) -> RoutesFound | ToolFailed:
    """The ``routes`` command's JSON as typed routes."""
    if failed := _failed(data, "routes"):
        return failed
    try:
        routes = tuple(
            WsRoute(
                path=str(r["path"]),
                consumer=r.get("consumer"),
                params=tuple(RouteParam(str(p["name"]), str(p["converter"])) for p in r["params"]),
                name=r.get("name"),
                pattern=str(r.get("pattern", "")),
                middleware=tuple(r.get("middleware", ())),
                origin_check=bool(r.get("origin_check")),
                auth=bool(r.get("auth")),
            )
            for r in data["routes"]
        )
    except (KeyError, TypeError) as exc:
        return ToolFailed(f"unexpected answer from 'routes': {exc!r}", "routes")
    return RoutesFound(routes, data.get("note"))


async def find_routes(**target: Any) -> RoutesFound | ToolFailed:
    """The project's WebSocket routes (``target``: :func:`run_tool`'s keyword arguments)."""
    return routes_from(await run_tool("routes", **target))


async def list_users(**target: Any) -> tuple[str, ...] | ToolFailed:
    """The project's usernames (at most ``tool_commands.MAX_USERS``)."""
    data = await run_tool("users", **target)
    if failed := _failed(data, "users"):
        return failed
    return tuple(str(u["username"]) for u in data.get("users", ()))


async def log_in_as(
    username: str, *, create: bool = False, **target: Any
) -> SessionCreated | ToolFailed:
    """A new session logged in as ``username`` (created first when ``create``)."""
    args = (username, "--create") if create else (username,)
    data = await run_tool("session", *args, **target)
    if failed := _failed(data, "session"):
        return failed
    try:
        return SessionCreated(
            user=str(data["user"]),
            cookie_name=str(data["cookie_name"]),
            cookie_value=str(data["cookie_value"]),
            created_user=bool(data.get("created_user")),
        )
    except KeyError as exc:
        return ToolFailed(f"unexpected answer from 'session': missing {exc}", "session")


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
        TOOL_MODULE,
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
