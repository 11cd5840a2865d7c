"""What the dashboard hands each server process: :class:`ServerSpec`, :class:`WarmSpec`, and
the one structured command of the control pipe, :class:`TemplatesCommand`.

A spec crosses a process boundary as JSON (a spawned child's argument, a fork request to the
warm process), so both are frozen dataclasses of plain values with their defaults stated once,
here. Standard library only: :mod:`.launch` builds specs on the CLI's early path.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, TypedDict


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """What :mod:`.child` (or a fork of :mod:`.warm`) needs to serve one generation."""

    project_dir: str
    settings_module: str
    host: str
    #: The inherited listening socket, the write end of the event pipe, the read end of the
    #: control pipe (file descriptor numbers in the server process).
    sock_fd: int
    event_fd: int
    control_fd: int
    #: Where the settings module name came from (shown in ServerStarted).
    settings_source: str = ""
    #: ``--app``: the ASGI application's path, else found from the settings.
    app: str | None = None
    #: Serve static files (Django's ``ASGIStaticFilesHandler``).
    static: bool = True
    generation: int = 1
    graceful_timeout: float = 1.0
    block_threshold_ms: float = 100.0
    #: ``--n-plus-one``: statements of one shape from one line that make an N+1 (0: off).
    n_plus_one: int = 5
    #: ``--no-hops``: no thread-hop timeline (RequestFinished.hops stays empty).
    hops: bool = True
    #: ``time.time()`` when the parent launched it (ServerStarted.startup_s counts from there).
    spawned_at: float = 0.0
    #: With reloading on, a project that fails to load keeps serving an error page until the
    #: next reload (instead of refusing connections).
    serve_errors: bool = False
    #: Run Django's system checks, this long after the server listens (see child.py
    #: ``run_checks_later``).
    checks: bool = True
    checks_delay_s: float = 0.0
    #: The ``.env`` files loaded into its environment (ServerStarted.env_file).
    env_file: str = ""
    #: ``--workers N``: this process's worker index (1..N; 0 = the only server process) and N.
    worker: int = 0
    workers: int = 1

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerSpec:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerSpec:
        return cls(**data)

    def with_pipes(self, event_fd: int, control_fd: int) -> ServerSpec:
        """The same spec with the pipes' numbers as the process that serves it has them."""
        return dataclasses.replace(self, event_fd=event_fd, control_fd=control_fd)


@dataclass(frozen=True, slots=True)
class WarmSpec:
    """What :mod:`.warm` needs to load the project once for many forks."""

    project_dir: str
    settings_module: str
    #: The warm process's end of its command channel (a SOCK_SEQPACKET socket).
    chan_fd: int
    app: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WarmSpec:
        return cls(**json.loads(text))


class TemplatesCommand(TypedDict, total=False):
    """The JSON of a ``templates`` line on the control pipe: reset the template loaders."""

    #: The parent's ``perf_counter_ns()`` when it saw the change (CLOCK_MONOTONIC on Linux:
    #: comparable across processes), so ReloadFinished measures from the save.
    t0_ns: int
    #: The changed template files.
    paths: list[str]
    #: Reset without reporting (the other workers of a ``--workers N`` generation: one
    #: ReloadFinished per change, from worker 1); a failure is still reported.
    quiet: bool


__all__ = ["ServerSpec", "TemplatesCommand", "WarmSpec"]
