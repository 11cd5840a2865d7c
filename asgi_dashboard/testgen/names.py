"""What the generated tests share: the result type, test names, headers kept, secrets in bodies."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ..events import Header
from ..wsclient_data import MARKER_HEADER

#: Headers never replayed. Secrets (a test logs in with ``force_login`` instead of a cookie;
#: Django's test Client skips CSRF checks, so no token is needed) and transport headers the test
#: client sets itself (Host: the client sends ``testserver``, which Django's test setup allows).
DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-csrftoken",
        "x-csrf-token",
        "host",
        "content-length",
        "content-type",  # passed as ``content_type=`` instead
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "accept-encoding",
        MARKER_HEADER,  # the dashboard's own WebSocket client session marker
    }
)
#: Header name prefixes never replayed (the WebSocket handshake's own headers).
DROPPED_PREFIXES = ("sec-websocket-",)
#: Form and JSON fields whose values are secrets unless the user keeps them.
SECRET_FIELD = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key", re.IGNORECASE)
#: Form fields dropped outright: the CSRF token (the test Client does not check it).
DROPPED_FIELDS = frozenset({"csrfmiddlewaretoken"})
#: What a secret field's value becomes in a generated test (with a TODO beside it).
SECRET_PLACEHOLDER = "TODO-secret"


@dataclass(frozen=True, slots=True)
class GenOptions:
    """The user's choices for one generated test."""

    #: Keep secret form/JSON fields (passwords, tokens) instead of a placeholder.
    keep_secrets: bool = False


@dataclass(frozen=True, slots=True)
class GeneratedTest:
    """One generated test function and the imports it needs."""

    #: The function's name (made unique when written to a file that already has it).
    name: str
    #: The function's source, starting with its decorators, without a trailing newline.
    source: str
    #: Import lines the function needs, e.g. ``import pytest``.
    imports: tuple[str, ...] = ()
    #: Things the user must look at (secrets left out, truncated bodies), also as TODO comments.
    todos: tuple[str, ...] = field(default_factory=tuple)
    #: Module-level code the test needs (written once per file, before the test), or "".
    prelude: str = ""


def function_name(prefix: str, path: str, suffix: str = "") -> str:
    """``test_<prefix>_<path words>[_<suffix>]``: a valid, readable Python identifier."""
    words = re.sub(r"[^0-9a-zA-Z]+", "_", path).strip("_").lower() or "root"
    if words == prefix or words.startswith(f"{prefix}_"):
        words = words[len(prefix) :].lstrip("_") or "root"  # test_ws_chat, not test_ws_ws_chat
    name = f"test_{prefix}_{words}" + (f"_{suffix}" if suffix else "")
    return name[:80].rstrip("_")


def kept_headers(headers: tuple[Header, ...]) -> dict[str, str]:
    """The recorded request headers worth replaying, lower-cased names, in order."""
    kept: dict[str, str] = {}
    for name, value in headers:
        low = name.lower()
        if low in DROPPED_HEADERS or low.startswith(DROPPED_PREFIXES):
            continue
        kept[low] = value
    return kept


def content_type_of(headers: tuple[Header, ...]) -> str:
    """The request's Content-Type header ("" without one)."""
    return next((v for k, v in headers if k.lower() == "content-type"), "")


def recorded_at(ts: float) -> str:
    """Where and when it was recorded, as the generated docstring says it (UTC)."""
    return time.strftime("Recorded by asgi-dash on %Y-%m-%d at %H:%M:%S UTC.", time.gmtime(ts))


def docstring(summary: str, detail: str, indent: str) -> str:
    """A docstring: the summary, then the detail on its own line after a blank one."""
    one, two = (_safe(t) for t in (summary, detail))
    return f'{indent}"""{one}\n\n{indent}{two}\n{indent}"""'


def _safe(text: str) -> str:
    # No backslashes (escapes) and no triple quotes inside a docstring.
    return text.replace("\\", "/").replace('"""', "'''")
