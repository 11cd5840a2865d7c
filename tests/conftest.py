"""Shared test setup.

The test process itself is configured for the bundled demo project, so instrumentation tests can
drive the demo's ASGI application directly (httpx ``ASGITransport``). The demo database lives in a
temporary folder for the whole session; it is created and migrated by the demo's own start-up code.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "asgi_dashboard" / "demo"

_tmp = tempfile.mkdtemp(prefix="asgi-dash-tests-")
os.environ.setdefault("ASGI_DASH_DEMO_DB", str(Path(_tmp) / "demo.sqlite3"))
os.environ["DJANGO_SETTINGS_MODULE"] = "demosite.settings"
if str(DEMO_DIR) not in sys.path:
    sys.path.insert(0, str(DEMO_DIR))


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    """A dashboard under test freezes the heap and turns off automatic full collections
    (``asgi_dashboard.gc_schedule.settle_gc``); the test process gets Python's defaults back
    after it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port for the session (tests/support/redis_server)."""
    from tests.support.redis_server import running_redis

    with running_redis() as url:
        yield url
