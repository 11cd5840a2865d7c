"""WebSocket routes, matched by Channels' ``URLRouter`` (the ``websocket`` half of asgi.py)."""

from __future__ import annotations

from demoapp.consumers import ChatConsumer, EchoConsumer
from django.urls import path

websocket_urlpatterns = [
    path("ws/echo/", EchoConsumer.as_asgi()),
    # slug keeps room names inside the characters a channel-layer group name allows.
    path("ws/chat/<slug:room>/", ChatConsumer.as_asgi()),
]
