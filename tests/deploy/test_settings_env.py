"""The demo's settings read the deploy environment, and without it stay exactly as before.

Settings are evaluated once per process, so each case imports ``demosite.settings`` in a fresh
interpreter with its own environment and reads the values back as JSON (no server, ~0.3 s each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import DEMO_DIR

DEPLOY_VARS = (
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_STATIC_ROOT",
    "REDIS_URL",
)
READ_SETTINGS = """
import json, sys
{block}
import demosite.settings as s
print(json.dumps({{
    "DEBUG": s.DEBUG, "SECRET_KEY": s.SECRET_KEY, "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "MIDDLEWARE": s.MIDDLEWARE, "CHANNEL_LAYERS": s.CHANNEL_LAYERS,
    "STORAGES": getattr(s, "STORAGES", None), "STATIC_ROOT": str(s.STATIC_ROOT),
}}))
"""
SECURITY = "django.middleware.security.SecurityMiddleware"
WHITENOISE = "whitenoise.middleware.WhiteNoiseMiddleware"


def read_settings(
    tmp_path: Path, block_whitenoise: bool = False, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in DEPLOY_VARS}
    environ.update(env, ASGI_DASH_DEMO_DB=str(tmp_path / "demo.sqlite3"))
    # A None entry in sys.modules makes importlib.util.find_spec report the package missing.
    block = "sys.modules['whitenoise'] = None" if block_whitenoise else ""
    code = READ_SETTINGS.format(block=block)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=DEMO_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_of(tmp_path: Path, block_whitenoise: bool = False, **env: str) -> dict[str, Any]:
    done = read_settings(tmp_path, block_whitenoise, **env)
    assert done.returncode == 0, done.stderr
    values: dict[str, Any] = json.loads(done.stdout)
    return values


def test_no_deploy_variables_keep_the_development_demo(tmp_path: Path) -> None:
    s = settings_of(tmp_path)
    assert s["DEBUG"] is True
    assert s["SECRET_KEY"].startswith("django-insecure-")
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    assert WHITENOISE not in s["MIDDLEWARE"]
    assert s["STORAGES"] is None  # Django's defaults
    assert s["CHANNEL_LAYERS"] == {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert s["STATIC_ROOT"] == str(tmp_path / "static")


def test_redis_url_selects_the_redis_channel_layer(tmp_path: Path) -> None:
    s = settings_of(tmp_path, REDIS_URL="redis://127.0.0.1:6390/2")
    layer = s["CHANNEL_LAYERS"]["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert layer["CONFIG"] == {"hosts": ["redis://127.0.0.1:6390/2"]}
    assert s["DEBUG"] is True and WHITENOISE not in s["MIDDLEWARE"]


def test_debug_off_requires_a_secret_key(tmp_path: Path) -> None:
    done = read_settings(tmp_path, DJANGO_DEBUG="0")
    assert done.returncode != 0
    assert "DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY" in done.stderr


def test_debug_off_serves_static_files_with_whitenoise(tmp_path: Path) -> None:
    s = settings_of(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_ALLOWED_HOSTS="example.com, .example.org",
        DJANGO_STATIC_ROOT=str(tmp_path / "collected"),
    )
    assert s["DEBUG"] is False and s["SECRET_KEY"] == "k" * 50
    assert s["ALLOWED_HOSTS"] == ["example.com", ".example.org"]
    middleware = s["MIDDLEWARE"]
    assert middleware[middleware.index(SECURITY) + 1] == WHITENOISE
    assert middleware.count(WHITENOISE) == 1
    staticfiles = s["STORAGES"]["staticfiles"]["BACKEND"]
    assert staticfiles == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert s["STATIC_ROOT"] == str(tmp_path / "collected")


def test_debug_off_without_whitenoise_installed_adds_nothing(tmp_path: Path) -> None:
    s = settings_of(tmp_path, True, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="k" * 50)
    assert s["DEBUG"] is False
    assert WHITENOISE not in s["MIDDLEWARE"]
    assert s["STORAGES"] is None
