"""Redaction of secrets in headers: the one rule the HAR export, ``--json`` and replay share.

``Authorization``, ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie`` values become
:data:`REDACTED` (the header names stay, so a reader sees that the request was authenticated),
and so do the parameters of SQL statements (the SQL and the number of parameters stay).
Both public forms of the request log redact by default: the HAR export (the dialog's "keep
secrets" box opts out) and the ``--headless --json`` stream (``--keep-secrets`` opts out).
``asgi-dash replay`` recognises a redacted value with :func:`redacted_headers` and says that the
recording needs ``--keep-secrets`` to reproduce an authenticated request.

No Textual, no Django: plain functions over ``(name, value)`` pairs and the event dataclasses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeVar

from .events import Event, HandlerRun, Header, RequestFinished, SqlQuery, WsOpened
from .events.base import field_names as _field_names

REDACTED = "[redacted]"
#: Lower-case header names whose values are secrets.
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

E = TypeVar("E", bound=Event)


def is_sensitive(name: str) -> bool:
    """Whether a header's value is a secret (case-insensitive name)."""
    return name.lower() in SENSITIVE_HEADERS


def redact_headers(headers: Iterable[Header]) -> tuple[Header, ...]:
    """The headers with every sensitive value replaced by :data:`REDACTED`."""
    return tuple((k, REDACTED if is_sensitive(k) else v) for k, v in headers)


def _needs(headers: Iterable[Header]) -> bool:
    return any(k.lower() in SENSITIVE_HEADERS and v != REDACTED for k, v in headers)


def _with(event: E, changes: dict[str, object]) -> E:
    """``dataclasses.replace`` without running ``__init__`` again: about half its cost on
    RequestFinished's ~40 fields, and ``--json`` runs it for every request that has a cookie."""
    new = object.__new__(type(event))
    for name in _field_names(type(event)):
        object.__setattr__(new, name, changes[name] if name in changes else getattr(event, name))
    return new


def redact_sql_params(params: tuple[str, ...]) -> tuple[str, ...]:
    """SQL parameters are values (a username looked up, a password hash, a token): each one
    becomes :data:`REDACTED`, like a cookie; how many there were, and the SQL, stay."""
    return tuple(REDACTED for _ in params)


def redact_sql(queries: tuple[SqlQuery, ...]) -> tuple[SqlQuery, ...]:
    """The statements with their parameters redacted (:func:`redact_sql_params`)."""
    return tuple(
        dataclasses.replace(q, params=redact_sql_params(q.params))
        if any(p != REDACTED for p in q.params)
        else q
        for q in queries
    )


def _sql_needs(queries: tuple[SqlQuery, ...]) -> bool:
    return any(p != REDACTED for q in queries for p in q.params)


def redact_event(event: E) -> E:
    """The event with its headers redacted; the same object when there is nothing to redact.

    Covers every event that carries headers: :class:`RequestFinished` (request and response
    headers, and its SQL statements' parameters) and :class:`WsOpened` (the handshake's request
    headers, which carry the session cookie).
    """
    changes: dict[str, object] = {}
    if isinstance(event, RequestFinished):
        if _needs(event.request_headers) or _needs(event.response_headers):
            changes["request_headers"] = redact_headers(event.request_headers)
            changes["response_headers"] = redact_headers(event.response_headers)
        if _sql_needs(event.sql):
            changes["sql"] = redact_sql(event.sql)
    elif isinstance(event, WsOpened) and _needs(event.request_headers):
        changes["request_headers"] = redact_headers(event.request_headers)
    elif isinstance(event, HandlerRun) and _sql_needs(event.sql):
        changes["sql"] = redact_sql(event.sql)  # a consumer handler's statements
    return _with(event, changes) if changes else event


def redacted_headers(headers: Iterable[Header]) -> tuple[str, ...]:
    """Names of the headers whose value was redacted (what a replay cannot reproduce)."""
    return tuple(k for k, v in headers if is_sensitive(k) and v == REDACTED)
