"""ASGI entry point of the demo: Django for HTTP, Channels consumers for WebSockets.

Order matters. ``get_asgi_application()`` runs ``django.setup()``, which must happen before
anything imports models (Channels' auth middleware and the consumers do), hence the late imports.
The database is migrated here so the demo needs no manual ``migrate`` step.

Static files: Django's ASGI handler does not serve them. asgi-dash wraps this app in
``ASGIStaticFilesHandler`` in DEBUG (as runserver does); under bare ``uvicorn`` the pages still
work, only unstyled, and the chat page says its script did not load.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demosite.settings")

# Calls django.setup(); keep it before the imports below.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from demoapp.bootstrap import ensure_database  # noqa: E402

from demosite.routing import websocket_urlpatterns  # noqa: E402

ensure_database()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # AllowedHostsOriginValidator checks the handshake's Origin header against
        # ALLOWED_HOSTS and rejects (403) a handshake without one: browsers always send it, but
        # a command-line client must add it, e.g. Origin: http://127.0.0.1.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
