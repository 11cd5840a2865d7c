"""Settings for the asgi-dash demo project.

By default for development: DEBUG is on and the secret key is public. The database lives in the
user's data folder (never inside the installed package, which may be read-only or shared between
users); set ``ASGI_DASH_DEMO_DB`` to put it somewhere else (the test suite points it at a temporary
file).

The deploy path (README "From asgi-dash to production", the Dockerfile) changes it through
environment variables only, so ``pip install . && asgi-dash`` runs exactly as without them:
``DJANGO_DEBUG=0`` (then ``DJANGO_SECRET_KEY`` is required, and whitenoise serves the collected
static files when it is installed), ``DJANGO_ALLOWED_HOSTS`` (comma-separated),
``DJANGO_STATIC_ROOT`` (where ``collectstatic`` writes), ``REDIS_URL`` (Channels groups through
Redis, so chat messages cross server processes).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# On unless DJANGO_DEBUG says otherwise ("0", "false", "no", "off").
DEBUG = os.environ.get("DJANGO_DEBUG", "1").strip().lower() not in {"0", "false", "no", "off"}

# DEV ONLY: a fixed, published key so the demo starts with no setup. Never reuse it anywhere;
# with DEBUG off the key must come from the environment.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_DEBUG=0 needs DJANGO_SECRET_KEY (a long random string)")
    SECRET_KEY = "django-insecure-asgi-dash-demo-dev-only-key-do-not-use-in-production"

# Loopback only by default: the demo is meant to be served on this machine. A deployment names
# its host names in DJANGO_ALLOWED_HOSTS (also what Channels' WebSocket Origin check accepts).
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Channels without daphne: asgi-dash serves the app with Uvicorn, so daphne's runserver
    # override is not wanted.
    "channels",
    "demoapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Near the top so its Server-Timing covers almost the whole middleware chain.
    "demoapp.middleware.TimingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demosite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "demosite.asgi.application"

# The channel layer carries chat messages between consumers. In-memory works only within one
# process, which is all the demo needs under asgi-dash's single server process. Several processes
# (gunicorn --workers 2, two servers) need a shared layer: Redis, when REDIS_URL is set
# (channels-redis, in the `deploy` extra; e.g. redis://127.0.0.1:6379/0).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def demo_database_path() -> Path:
    """Where the demo database lives: ``$ASGI_DASH_DEMO_DB``, else the XDG data folder."""
    explicit = os.environ.get("ASGI_DASH_DEMO_DB")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "asgi-dash" / "demo.sqlite3"


DEMO_DB_PATH = demo_database_path()
DEMO_DB_PATH.parent.mkdir(parents=True, exist_ok=True)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DEMO_DB_PATH,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `manage.py collectstatic` gathers the files for whitenoise (deploy only): beside the
# database by default, never inside the installed package.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or DEMO_DB_PATH.parent / "static")

# Production static files: whitenoise serves STATIC_ROOT from inside the app when DEBUG is off and
# it is installed (the `deploy` extra), with compressed variants and far-future Cache-Control on
# hashed names. In DEBUG (the default) asgi-dash serves static files itself, as runserver does.
USE_WHITENOISE = not DEBUG and importlib.util.find_spec("whitenoise") is not None
if USE_WHITENOISE:
    # Right after SecurityMiddleware, as whitenoise's documentation says.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# /fanout/ reads its base URL from the DEMO_FANOUT_BASE environment variable at request time (see
# demoapp.api.fanout), not from a setting: the default comes from the incoming request, because
# asgi-dash picks the port at run time and the demo must not need the internet.
