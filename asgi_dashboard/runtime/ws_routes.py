"""WebSocket route discovery: walk a project's ASGI application to its Channels routes.

Pure: takes the application object and imports nothing (no Django, no Channels), so unit tests
build apps without a server. Runs in the tool subprocess (:mod:`.tool_commands`), where the
project is loaded. The walk: Channels' ``ProtocolTypeRouter`` (``application_mapping["websocket"]``)
-> middleware layers (anything with ``.inner``, e.g. ``AuthMiddlewareStack``;
``OriginValidator.application``) -> ``URLRouter.routes``, nested routers included (Channels
rejects ``include()`` in a URLRouter, see ``channels/routing.py``, so nesting is always a
``URLRouter`` as a route's callback).
"""

from __future__ import annotations

import re
from typing import Any

#: Layers a walk goes through before giving up (a cycle, or a very odd stack).
MAX_DEPTH = 32


def dotted(obj: Any) -> str:
    """``module.QualName`` of a class, or of an instance's class."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _pattern_text(pattern: Any) -> tuple[str, bool]:
    """(the pattern as written, is_regex) for Django's RoutePattern / RegexPattern."""
    route = getattr(pattern, "_route", None)
    if isinstance(route, str):
        return route, False
    regex = getattr(pattern, "_regex", None)
    if isinstance(regex, str):
        return regex, True
    return str(pattern), False


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>")


def _params(text: str, is_regex: bool) -> list[dict[str, str]]:
    if is_regex:
        return [{"name": m["name"], "converter": "regex"} for m in _REGEX_GROUP.finditer(text)]
    return [
        {"name": m["name"], "converter": m["conv"] or "str"} for m in _ROUTE_PARAM.finditer(text)
    ]


def _strip_group(text: str, start: int) -> int:
    """Index just past the group that opens at ``start`` (balanced parentheses)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def _template(text: str, is_regex: bool) -> str:
    """A fill-in template: ``chat/<slug:room>/`` -> ``chat/{room}/`` (best effort for regex)."""
    if not is_regex:
        return _ROUTE_PARAM.sub(lambda m: "{" + m["name"] + "}", text)
    out: list[str] = []
    i = 0
    body = text.removeprefix("^").removesuffix("$")
    while i < len(body):
        m = _REGEX_GROUP.match(body, i)
        if m:
            out.append("{" + m["name"] + "}")
            i = _strip_group(body, i)
            continue
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        if ch not in "?*+^$":
            out.append(ch)
        i += 1
    return "".join(out)


def _unwrap(app: Any, chain: list[str]) -> Any:
    """Follow middleware layers down to a URLRouter, a consumer, or something opaque."""
    for _ in range(MAX_DEPTH):
        if hasattr(app, "routes") and getattr(app, "_path_routing", False):
            return app  # channels.routing.URLRouter
        if hasattr(app, "consumer_class"):
            return app  # Consumer.as_asgi()
        inner = getattr(app, "inner", None)
        if inner is None:
            inner = getattr(app, "application", None)
        if inner is None or inner is app:
            return app
        chain.append(dotted(app))
        app = inner
    return app


def _walk_router(
    router: Any,
    prefix: str,
    prefix_params: list[dict[str, str]],
    prefix_template: str,
    out: list[dict[str, Any]],
    depth: int = 0,
) -> None:
    for route in getattr(router, "routes", ()):
        text, is_regex = _pattern_text(route.pattern)
        pattern = prefix + text
        params = prefix_params + _params(text, is_regex)
        template = prefix_template + _template(text, is_regex)
        chain: list[str] = []
        target = _unwrap(getattr(route, "callback", None), chain)
        if getattr(target, "_path_routing", False) and depth < MAX_DEPTH:
            _walk_router(target, pattern, params, template, out, depth + 1)
            continue
        consumer_class = getattr(target, "consumer_class", None)
        if consumer_class is not None:
            consumer = dotted(consumer_class)
        elif target is None:
            consumer = None
        elif hasattr(target, "__qualname__"):
            consumer = f"{target.__module__}.{target.__qualname__}"  # a plain ASGI function
        else:
            consumer = dotted(target)
        out.append(
            {
                "pattern": pattern,
                "regex": is_regex,
                "path": "/" + template.lstrip("/"),
                "consumer": consumer,
                "params": params,
                "name": getattr(route, "name", None),
                "middleware": chain,
            }
        )


def _protocol_router(app: Any, chain: list[str]) -> Any:
    """Past our own wrappers (static files) and any outer middleware, to a ProtocolTypeRouter
    (or the innermost application when there is none)."""
    top = app
    for _ in range(MAX_DEPTH):
        if isinstance(getattr(top, "application_mapping", None), dict):
            break
        inner = getattr(top, "application", None) or getattr(top, "inner", None)
        if inner is None:
            break
        chain.append(dotted(top))
        top = inner
    return top


def discover_routes(app: Any) -> dict[str, Any]:
    """The WebSocket routes behind an ASGI application (see the module docstring)."""
    chain: list[str] = []
    top = _protocol_router(app, chain)
    mapping = getattr(top, "application_mapping", None)
    result: dict[str, Any] = {
        "routes": [],
        "middleware": [],
        "origin_check": False,
        "auth": False,
        "note": None,
    }
    if not isinstance(mapping, dict):
        result["note"] = (
            f"{dotted(app)} is not a Channels ProtocolTypeRouter: the project serves no "
            "WebSocket routes through Channels (any ws:// URL can still be typed)."
        )
        return result
    ws_app = mapping.get("websocket")
    if ws_app is None:
        result["note"] = "The ProtocolTypeRouter has no 'websocket' entry."
        return result
    router = _unwrap(ws_app, chain)
    result["middleware"] = chain
    names = " ".join(chain)
    result["origin_check"] = "OriginValidator" in names
    result["auth"] = "AuthMiddleware" in names
    routes: list[dict[str, Any]] = []
    if getattr(router, "_path_routing", False):
        _walk_router(router, "", [], "", routes)
    elif hasattr(router, "consumer_class"):
        routes.append(
            {
                "pattern": "",
                "regex": False,
                "path": "/",
                "params": [],
                "name": None,
                "consumer": dotted(router.consumer_class),
                "middleware": [],
            }
        )
    else:
        result["note"] = f"The websocket application {dotted(router)} has no URLRouter to read."
    for r in routes:
        r["origin_check"] = result["origin_check"] or any(
            "OriginValidator" in m for m in r["middleware"]
        )
        r["auth"] = result["auth"] or any("AuthMiddleware" in m for m in r["middleware"])
    result["routes"] = routes
    return result
