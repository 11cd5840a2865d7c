"""Gunicorn settings for serving the demo in production (the Dockerfile's CMD loads this file).

The command, run from the repository root (the image's WORKDIR)::

    gunicorn --config asgi_dashboard/demo/gunicorn.conf.py --bind 0.0.0.0:8000 \
        demosite.asgi:application

Uvicorn workers from the maintained ``uvicorn-worker`` package (``uvicorn.workers`` is deprecated
since Uvicorn 0.30). Each worker imports ``demosite.asgi`` itself (no ``preload_app``), which
creates and migrates the database; the demo's own start-up code serialises that with a file lock,
so two workers starting together migrate once. With more than one worker, chat messages cross
workers only through Redis: set ``REDIS_URL`` (see ``demosite/settings.py``).
"""

from __future__ import annotations

from pathlib import Path

# The demo is a plain folder (demosite/, demoapp/), imported as manage.py imports it: from here.
pythonpath = str(Path(__file__).resolve().parent)

worker_class = "uvicorn_worker.UvicornWorker"
workers = 2

# Gunicorn kills a worker that has not notified it for this long; Uvicorn workers notify from
# their event loop, so this also catches a loop blocked for half a minute.
timeout = 30
# SIGTERM: workers stop accepting and drain; after this, what is left (an open WebSocket keeps a
# Uvicorn worker waiting) is killed, so a container stops well within Docker's 10 s.
graceful_timeout = 5
# Behind a proxy: idle keep-alive connections live longer than the proxy's (nginx: 60 s upstream).
keepalive = 75

# No control socket (gunicorn >= 24 opens $XDG_RUNTIME_DIR or $HOME/.gunicorn/gunicorn.ctl for
# `gunicornc`): the demo needs no runtime management, and two gunicorns of one user would share
# that path.
control_socket_disable = True

# Logs to stderr (the container's log); the access log is Uvicorn's, one line per request.
accesslog = "-"
errorlog = "-"
loglevel = "info"
