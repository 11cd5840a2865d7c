"""Settings for the asgi-dash demo project.

Development only: DEBUG is on and the secret key is public. The database lives in the user's data
folder (never inside the installed package, which may be read-only or shared between users); set
``ASGI_DASH_DEMO_DB`` to put it somewhere else (the test suite points it at a temporary file).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# DEV ONLY: a fixed, published key so the demo starts with no setup. Never reuse it anywhere.
SECRET_KEY = "django-insecure-asgi-dash-demo-dev-only-key-do-not-use-in-production"

DEBUG = True

# Loopback only: the demo is meant to be served on this machine.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

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
# process, which is all the demo needs (asgi-dash runs a single server process).
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# /fanout/ reads its base URL from the DEMO_FANOUT_BASE environment variable at request time (see
# demoapp.api.fanout), not from a setting: the default comes from the incoming request, because
# asgi-dash picks the port at run time and the demo must not need the internet.
