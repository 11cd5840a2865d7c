"""Starting one generation's server process: forked from the warm process when it can be, else a
fresh interpreter. :func:`launch_process` returns a :class:`Launched`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..config import DashboardConfig
from .generation import DirectChild, ProcessLike
from .launch import LaunchHow, spawn_child
from .reloader import Decision
from .spec import ServerSpec
from .warmclient import ForkLauncher


@dataclass(frozen=True, slots=True)
class Launched:
    """A started server process, the readers of its stdout and stderr, and how it started."""

    process: ProcessLike
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader
    how: LaunchHow
    #: Why it was not forked, or why the warm process was rebuilt ("" when forked as usual).
    reason: str = ""


async def launch_process(
    config: DashboardConfig,
    spec: ServerSpec,
    launcher: ForkLauncher | None,
    decision: Decision | None,
    manual: bool,
) -> Launched:
    """Start a server process for ``spec``: forked by ``launcher``'s warm process when there is
    one (never for the first generation), else a fresh interpreter."""
    # The first generation is a plain child: the warm process is built once it serves, so
    # the first start is not slowed down by it (see supervisor.ChildRuntime._from_child).
    if launcher is not None and spec.generation > 1:
        # A manual restart also rebuilds: the user may have changed something we do not
        # watch (an installed package, an environment variable).
        rebuild = manual or (decision is not None and decision.action == "rebuild")
        forked = await launcher.launch(spec, rebuild=rebuild)
        if forked is not None:
            process, stdout, stderr = forked
            if rebuild:
                why = decision.reason if decision is not None else "manual restart"
                return Launched(process, stdout, stderr, "spawn", f"warm process rebuilt: {why}")
            return Launched(process, stdout, stderr, "fork")
    reason = launcher.reason if launcher is not None else ""
    direct = DirectChild(spawn_child(config, spec))
    stdout, stderr = await direct.readers()
    return Launched(direct, stdout, stderr, "spawn", reason)


__all__ = ["Launched", "launch_process"]
