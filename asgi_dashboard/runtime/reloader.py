"""Watch the project for changes and decide what each (debounced) batch of changes means.

No processes here: :class:`Reloader` turns file-system events from ``watchfiles.awatch`` into
:class:`Decision` objects (restart, rebuild the warm process, reset the template loaders, or
ignore) and hands them to the runtime, which acts on them.

* **Filters.** Included by default: Python files, ``.env`` files (and the project's own env
  files, whatever their name: ``config.env_files``) and anything inside a template
  directory (Django's own ``get_template_directories()`` as reported by the server, plus every
  folder named ``templates``). Never watched: VCS folders, ``__pycache__``, virtualenvs,
  ``node_modules``, media, SQLite files and their ``-wal``/``-journal``/``-shm`` companions
  (the classic reload loop: the app writes its own database). ``--reload-exclude`` wins over
  everything; ``--reload-include`` adds globs.
* **Debounce.** ``awatch`` groups changes until no new one arrives for ``step`` ms (bounded by
  ``debounce`` ms), so an editor's save or a ``git checkout`` is one batch, one reload.
* **Loop guard.** A non-source path (matched only by a user ``--reload-include``) that triggers
  reloads :data:`LOOP_THRESHOLD` times within :data:`LOOP_WINDOW_S` is something the app itself
  writes; it is ignored from then on (ReloadLoopDetected says which file).
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Literal

from watchfiles import Change, DefaultFilter, awatch

from ..config import DashboardConfig
from ..events import Event, FilesChanged, ReloadLoopDetected, ReloadWatching
from .trace import trace

Action = Literal["restart", "rebuild", "templates", "ignore"]

#: Milliseconds without a new change before a batch is handed over (watchfiles' ``step``).
#: watchfiles' Rust loop sleeps ``step`` ms, then hands the batch over once its size (a set of
#: (change, path)) did not grow during one more step: a save is seen 1-2 steps after the write
#: (median 19 ms measured with 10, 12 ms with 5). Editors write a save within a millisecond or
#: two (and ``git checkout`` writes back to back), so 10 ms makes one reload per save; 5 ms split
#: a test's burst of five writes into two batches on a loaded machine (writer descheduled
#: between writes), so the 7 ms are not worth a second restart.
STEP_MS = 10
#: Upper bound on how long one batch may keep growing (``git checkout`` of many files).
DEBOUNCE_MS = 1600
LOOP_THRESHOLD = 3
LOOP_WINDOW_S = 10.0

DEFAULT_INCLUDES: tuple[str, ...] = ("*.py", ".env", "*.env", ".env.*")
IGNORED_DIRS: tuple[str, ...] = (
    *DefaultFilter.ignore_dirs,
    "venv",
    "env",
    # Not ".env": that name is the dotenv *file*; a virtualenv folder called .env is still
    # recognised by its pyvenv.cfg.
    ".nox",
    ".ruff_cache",
    "site-packages",
    "media",
    "htmlcov",
    "staticfiles",
    ".direnv",
)
DEFAULT_EXCLUDES: tuple[str, ...] = (
    "*.sqlite3",
    "*.sqlite3-*",
    "*.sqlite",
    "*.sqlite-*",
    "*.db",
    "*.db-*",
    "*-journal",
    "*-wal",
    "*-shm",
    "*.lock",
    "*.py[cod]",
    "*~",
    ".#*",
    "*.sw?",
    "*.tmp",
)
ENV_NAMES = (".env", "*.env", ".env.*")


def _matches(path: PurePath, patterns: Iterable[str]) -> bool:
    name = path.name
    return any(fnmatch.fnmatch(name, p) or path.match(p) for p in patterns)


class ReloadFilter(DefaultFilter):
    """The ``watch_filter`` for ``awatch``: True for a path that may trigger a reload."""

    def __init__(
        self,
        includes: Iterable[str] = (),
        excludes: Iterable[str] = (),
        template_dirs: Iterable[str] = (),
        ignore_paths: Iterable[str] = (),
    ) -> None:
        super().__init__(ignore_dirs=IGNORED_DIRS, ignore_entity_patterns=(), ignore_paths=())
        self.includes = (*DEFAULT_INCLUDES, *includes)
        self.user_includes = tuple(includes)
        self.excludes = (*DEFAULT_EXCLUDES, *excludes)
        self.user_excludes = tuple(excludes)
        #: Updated by the runtime when the server reports Django's template directories.
        self.template_dirs: tuple[str, ...] = tuple(template_dirs)
        #: Absolute paths (or folders) never watched, e.g. MEDIA_ROOT once the server reports it.
        self.ignore_prefixes: tuple[str, ...] = tuple(ignore_paths)
        #: The project's .env files (config.env_files), whatever their name: always an "env".
        self.env_files: frozenset[str] = frozenset()
        self._venv_cache: dict[str, bool] = {}

    def in_template_dir(self, path: str) -> bool:
        if any(path.startswith(d.rstrip(os.sep) + os.sep) for d in self.template_dirs):
            return True
        return "templates" in PurePath(path).parts[:-1]

    def _in_venv(self, path: str) -> bool:
        # Virtualenvs have any name; pyvenv.cfg marks them. Cached per folder.
        folder = os.path.dirname(path)
        while folder and folder != os.path.dirname(folder):
            hit = self._venv_cache.get(folder)
            if hit is None:
                hit = self._venv_cache[folder] = os.path.exists(os.path.join(folder, "pyvenv.cfg"))
            if hit:
                return True
            folder = os.path.dirname(folder)
        return False

    def __call__(self, change: Change, path: str) -> bool:
        if path in self.env_files:  # even in a folder ignored by default (e.g. "env/")
            return not _matches(PurePath(path), self.user_excludes)
        if not super().__call__(change, path):
            return False
        pure = PurePath(path)
        if self.ignore_prefixes and any(
            path == p or path.startswith(p.rstrip(os.sep) + os.sep) for p in self.ignore_prefixes
        ):
            return False
        if _matches(pure, self.excludes):
            return False
        if not (_matches(pure, self.includes) or self.in_template_dir(path)):
            return False
        return not self._in_venv(path)

    def kind(self, path: str) -> Literal["python", "env", "template", "other"]:
        pure = PurePath(path)
        if pure.suffix == ".py":
            return "python"
        if path in self.env_files or _matches(pure, ENV_NAMES):
            return "env"
        if self.in_template_dir(path):
            return "template"
        return "other"


@dataclass(frozen=True, slots=True)
class Decision:
    """What a batch of changes means for the server."""

    action: Action
    paths: tuple[str, ...]
    reason: str
    #: ``time.perf_counter_ns()`` when the batch was handed over (start of the reload clock).
    detected_ns: int = 0


def classify(
    changes: Iterable[tuple[Change, str]],
    flt: ReloadFilter,
    *,
    warm_files: frozenset[str] = frozenset(),
    server_failed: bool = False,
    detected_ns: int = 0,
) -> Decision:
    """Decide what to do about a batch of (already filtered) changes."""
    paths = tuple(sorted({p for _, p in changes}))
    kinds = {p: flt.kind(p) for p in paths}
    code = [p for p in paths if kinds[p] != "template"]
    if not paths:
        return Decision("ignore", paths, "nothing relevant changed", detected_ns)
    if not code:
        if server_failed:
            # Loaders cannot be reset in a server that is not running: start one.
            return Decision("restart", paths, "template changed while broken", detected_ns)
        return Decision("templates", paths, "templates changed: loaders reset", detected_ns)
    imported = [p for p in code if p in warm_files or kinds[p] == "env"]
    if imported:
        name = os.path.basename(imported[0])
        return Decision(
            "rebuild",
            paths,
            f"{name} was imported at start-up (settings, models, apps...)",
            detected_ns,
        )
    return Decision("restart", paths, "code changed", detected_ns)


@dataclass
class LoopGuard:
    """Notices a non-source file that keeps triggering reloads (the app writes it itself)."""

    threshold: int = LOOP_THRESHOLD
    window_s: float = LOOP_WINDOW_S
    ignored: set[str] = field(default_factory=set)
    _hits: dict[str, deque[float]] = field(default_factory=dict)

    def note(self, paths: Iterable[str], now: float | None = None) -> list[tuple[str, int]]:
        """Record reloads triggered by ``paths``; returns newly detected loops (path, count)."""
        t = time.monotonic() if now is None else now
        found = []
        for path in paths:
            hits = self._hits.setdefault(path, deque(maxlen=self.threshold))
            hits.append(t)
            if len(hits) >= self.threshold and t - hits[0] <= self.window_s:
                self.ignored.add(path)
                found.append((path, len(hits)))
        return found


def watch_roots(config: DashboardConfig) -> tuple[Path, ...]:
    return config.reload_dirs or (config.project_dir,)


class Reloader:
    """Runs ``awatch`` over the watched roots and hands each decision to ``handle``.

    ``handle`` is awaited before the next batch is looked at, so reloads never overlap; changes
    that arrive meanwhile are kept by watchfiles and come as the next batch.
    """

    def __init__(
        self,
        config: DashboardConfig,
        handle: Callable[[Decision], Awaitable[None]],
        emit: Callable[[Event], None],
        *,
        warm_files: Callable[[], frozenset[str]] = frozenset,
        server_failed: Callable[[], bool] = lambda: False,
    ) -> None:
        self.roots = watch_roots(config)
        self.filter = ReloadFilter(config.reload_includes, config.reload_excludes)
        self.filter.env_files = frozenset(str(f.path) for f in config.env_files)
        self.handle = handle
        self.emit = emit
        self.warm_files = warm_files
        self.server_failed = server_failed
        self.guard = LoopGuard()
        self._stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def watching(self) -> ReloadWatching:
        """What this reloader watches, as the event :meth:`start` emits (the UI shows it)."""
        return ReloadWatching(
            roots=tuple(str(r) for r in self.roots),
            includes=(*self.filter.includes, "<template dirs>/*"),
            excludes=(*self.filter.excludes, *(f"{d}/" for d in IGNORED_DIRS)),
        )

    def start(self) -> Reloader:
        self.emit(self.watching())
        self.task = asyncio.create_task(self._run(), name="watch_sources")
        return self

    def set_template_dirs(self, dirs: Iterable[str], ignore: Iterable[str] = ()) -> None:
        self.filter.template_dirs = tuple(dirs)
        self.filter.ignore_prefixes = tuple(p for p in ignore if p)

    async def stop(self) -> None:
        self._stop.set()
        if self.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 2.0)
            except TimeoutError:
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        async for changes in awatch(
            *self.roots,
            watch_filter=self.filter,
            step=STEP_MS,
            debounce=DEBOUNCE_MS,
            stop_event=self._stop,
            # The rust side wakes up this often to check stop_event.
            rust_timeout=500,
            ignore_permission_denied=True,
        ):
            detected = time.perf_counter_ns()
            trace("detected", detected)
            await self.consider(changes, detected)

    async def consider(self, changes: set[tuple[Change, str]], detected_ns: int) -> None:
        """Apply the loop guard, classify, report FilesChanged and act."""
        # An editor's or sed's temporary file: created and gone within the batch.
        transient = {p for c, p in changes if c == Change.added and not os.path.exists(p)}
        changes = {(c, p) for c, p in changes if p not in self.guard.ignored | transient}
        if not changes:
            return
        others = [p for _, p in changes if self.filter.kind(p) == "other"]
        for path, count in self.guard.note(others):
            self.emit(ReloadLoopDetected(path=path, count=count))
        changes = {(c, p) for c, p in changes if p not in self.guard.ignored}
        if not changes:
            return
        decision = classify(
            changes,
            self.filter,
            warm_files=self.warm_files(),
            server_failed=self.server_failed(),
            detected_ns=detected_ns,
        )
        self.emit(
            FilesChanged(paths=decision.paths, action=decision.action, reason=decision.reason)
        )
        if decision.action != "ignore":
            await self.handle(decision)
