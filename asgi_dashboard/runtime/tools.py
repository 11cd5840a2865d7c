"""The project tools' parent half: run one tool command in a subprocess and read its JSON.

The commands themselves (WebSocket routes, users, a logged-in session) run in
:mod:`.tool_commands`, in a short-lived subprocess. Why a subprocess: the dashboard process never
imports the project (its import errors and its ``django.setup()`` belong to a server process),
and each call sees the code as it is on disk now. This module imports neither Django nor the
server half, so the UI may import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from typing import Any

#: The module the subprocess runs (``python -m``); named, not imported.
TOOL_MODULE = "asgi_dashboard.runtime.tool_commands"


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
