"""Start-up work for the demo: create and migrate the SQLite database without a manual step.

Called from ``demosite/asgi.py`` after ``django.setup()``. Two servers may start at once (the
dashboard's reloader, two terminals), so the check-then-migrate runs under an exclusive
``fcntl.flock`` on a lock file next to the database: the second process waits, then finds nothing
to apply.

The migration that creates the demo user (``demo`` / ``demo``) runs once per database, so the
line announcing it is logged once: by the process that applied it, at the first start. Logged
(INFO, logger ``demoapp``), not printed: asgi-dash shows log records in its console, while a
print would land in ``--in-process --json`` output as a line that is not JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; concurrent first starts are then the user's problem.
    fcntl = None  # type: ignore[assignment]

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as lock_file:
        if fcntl is not None:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


log = logging.getLogger("demoapp")

#: The data migration that creates the demo user, and what to say when it ran.
USER_MIGRATION = ("demoapp", "0003_demo_user")
USER_CREATED = (
    "Demo user created: log in as demo / demo (at /admin/, or with the WebSocket panel's "
    "'Log in as user'). It is a local demo account: keep the server on a loopback address."
)


def _migrate_if_needed(using: str) -> bool:
    database_path = Path(settings.DATABASES[using]["NAME"])
    database_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _exclusive_lock(database_path.with_name(database_path.name + ".lock")):
            executor = MigrationExecutor(connections[using])
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            # Only call migrate when something is pending: it also runs post_migrate handlers
            # (content types, permissions), which would slow every (re)start for nothing.
            if plan:
                call_command("migrate", database=using, interactive=False, verbosity=0)
            if any((m.app_label, m.name) == USER_MIGRATION for m, _backwards in plan):
                log.info(USER_CREATED)
            return bool(plan)
    finally:
        # The dashboard may fork a server child from this process; a child must never share an
        # open SQLite connection (file descriptor and lock state) with its parent.
        connections.close_all()


def ensure_database(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Apply pending migrations (schema and seed data); returns True if any were applied.

    Safe to call from a thread that runs an event loop: ``uvicorn module:app`` imports the app
    inside its running loop (``Server._serve`` -> ``Config.load``), where Django's async-safety
    guard refuses ORM calls. The work then runs on a short-lived thread and this call waits for
    it; blocking the loop is harmless here because the server is not accepting connections yet.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _migrate_if_needed(using)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-migrate") as pool:
        return pool.submit(_migrate_if_needed, using).result()
