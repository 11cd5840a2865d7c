"""WebSocket route discovery (asgi_dashboard.runtime.ws_routes.discover_routes) on built apps."""

from __future__ import annotations

import django
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import OriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path, re_path

from asgi_dashboard.runtime.ws_routes import discover_routes

django.setup()  # the test process is configured for the demo (tests/conftest.py)


class RoomConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # Channels ships no types
    pass


class LiveConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]
    pass


async def plain_app(scope: object, receive: object, send: object) -> None:
    """A bare ASGI callable used as a route target."""


def test_nested_routers_regex_and_middleware() -> None:
    inner = URLRouter(
        [
            path("rooms/<int:pk>/", RoomConsumer.as_asgi()),
            re_path(r"^live/(?P<stream>[a-z]+)/$", LiveConsumer.as_asgi()),
        ]
    )
    app = ProtocolTypeRouter(
        {
            "http": get_asgi_application(),
            "websocket": OriginValidator(
                AuthMiddlewareStack(
                    URLRouter(
                        [
                            path("api/<slug:team>/", inner),
                            path("raw/", plain_app),
                        ]
                    )
                ),
                ["*"],
            ),
        }
    )
    found = discover_routes(app)
    routes = {r["path"]: r for r in found["routes"]}
    assert set(routes) == {"/api/{team}/rooms/{pk}/", "/api/{team}/live/{stream}/", "/raw/"}
    room = routes["/api/{team}/rooms/{pk}/"]
    assert room["consumer"] == f"{__name__}.RoomConsumer"
    assert room["params"] == [
        {"name": "team", "converter": "slug"},
        {"name": "pk", "converter": "int"},
    ]
    live = routes["/api/{team}/live/{stream}/"]
    assert live["params"][-1] == {"name": "stream", "converter": "regex"}
    assert routes["/raw/"]["consumer"] == f"{__name__}.plain_app"
    assert found["origin_check"] and found["auth"]
    assert found["middleware"][0] == "channels.security.websocket.OriginValidator"


def test_plain_django_app_has_no_websocket_routes() -> None:
    found = discover_routes(get_asgi_application())
    assert found["routes"] == [] and "not a Channels ProtocolTypeRouter" in found["note"]


def test_router_without_websocket_entry() -> None:
    found = discover_routes(ProtocolTypeRouter({"http": get_asgi_application()}))
    assert found["routes"] == [] and "no 'websocket'" in found["note"]


def test_wrapped_app_is_unwrapped() -> None:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    app = ProtocolTypeRouter({"websocket": URLRouter([path("ws/", RoomConsumer.as_asgi())])})
    found = discover_routes(ASGIStaticFilesHandler(app))
    assert [r["path"] for r in found["routes"]] == ["/ws/"]
    assert not found["origin_check"]


def test_single_consumer_without_router() -> None:
    found = discover_routes(ProtocolTypeRouter({"websocket": RoomConsumer.as_asgi()}))
    assert found["routes"][0]["consumer"] == f"{__name__}.RoomConsumer"


def test_the_json_reads_into_typed_routes() -> None:
    """What the dashboard gets back from the tool subprocess: JSON, read by tools.routes_from."""
    import json

    from asgi_dashboard.runtime.tools import RouteParam, RoutesFound, ToolFailed, routes_from

    app = ProtocolTypeRouter(
        {
            "websocket": AuthMiddlewareStack(
                URLRouter([path("rooms/<int:pk>/", RoomConsumer.as_asgi())])
            )
        }
    )
    found = routes_from(json.loads(json.dumps(discover_routes(app))))
    assert isinstance(found, RoutesFound) and found.note is None
    (room,) = found.routes
    assert (room.path, room.consumer) == ("/rooms/{pk}/", f"{__name__}.RoomConsumer")
    assert room.params == (RouteParam("pk", "int"),)
    assert room.auth and not room.origin_check
    failed = routes_from({"error": "No module named 'nope'", "phase": "import"})
    assert failed == ToolFailed("No module named 'nope'", "import")
    assert isinstance(routes_from({"routes": [{"consumer": "x"}]}), ToolFailed)
