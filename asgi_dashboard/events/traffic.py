"""Events of the traffic: HTTP requests and WebSocket connections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .base import CancelReason, Event, ExceptionInfo, Header, Hop, Kind, NPlusOne, SqlQuery

# -- HTTP ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class RequestFinished(Event):
    """One finished HTTP request. ``ts`` is the wall time it *started*."""

    name: ClassVar[str] = "request"
    id: str
    method: str
    path: str
    status: int
    query: str = ""
    generation: int = 0
    #: The server process that served it: worker index (1..N with ``--workers N``; 0 for a
    #: single server process) and its pid (0 when unknown). See instrument/identity.py.
    worker: int = 0
    worker_pid: int = 0
    client: str | None = None
    static: bool = False
    #: Route pattern as written in the URLconf (e.g. "polls/<int:pk>/"), None if unresolved.
    route: str | None = None
    url_name: str | None = None
    #: Readable dotted path of the view (see instrument/naming.py): the view Django resolved,
    #: also when a middleware answered before it ran (then ``answered_by`` says which); None
    #: when the URL resolves to no view (a 404).
    view: str | None = None
    kind: Kind | None = None
    #: The middleware class whose ``__call__`` (or ``process_view``) returned the response
    #: before the view ran (e.g. ``django.middleware.csrf.CsrfViewMiddleware`` for a POST
    #: without a CSRF token), so ``view_ns`` is None; None when the view ran or for a 404.
    answered_by: str | None = None
    response_size: int = 0
    #: Durations, integer nanoseconds (see instrument/tap.py for how each one is measured).
    total_ns: int = 0
    view_ns: int | None = None
    thread_wait_ns: int | None = None
    template_ns: int | None = None
    #: The part of ``template_ns`` rendered while the view ran (``render()``); the rest was
    #: rendered after it returned (``TemplateResponse``, rendered by Django's handler).
    template_in_view_ns: int = 0
    sql_count: int = 0
    sql_ns: int = 0
    #: Bounded list of statements (the count above is exact even when this is truncated).
    sql: tuple[SqlQuery, ...] = ()
    #: N+1 patterns among them: a SQL shape issued at least ``--n-plus-one`` times (default 5)
    #: from one project line, with the fix (instrument/nplus1.py). Empty: none (or disabled).
    n_plus_one: tuple[NPlusOne, ...] = ()
    #: Sync/async context switches Django made for middleware adaptation (see instrument).
    sync_hops: int = 0
    #: The timeline of those hops, in call order (the first ``MAX_HOPS`` = 64 of them: ``sync_hops``
    #: stays exact; see instrument/hops.py).
    hops: tuple[Hop, ...] = ()
    error: ExceptionInfo | None = None
    request_headers: tuple[Header, ...] = ()
    response_headers: tuple[Header, ...] = ()
    #: Headers left out of the two tuples above (kept: the first 100, at most 64 KiB in all;
    #: instrument/tap.py ``MAX_EVENT_HEADERS``): 0 when every header is there.
    request_headers_dropped: int = 0
    response_headers_dropped: int = 0
    #: Bounded previews (latin-1 safe text); ``*_truncated`` says whether more was sent.
    request_body: str = ""
    request_body_truncated: bool = False
    response_body: str = ""
    response_body_truncated: bool = False
    #: True when the body preview is base64 because the content was not text.
    request_body_b64: bool = False
    response_body_b64: bool = False
    #: Why the request was cancelled before the application finished it, if it was: "reload"
    #: (the server was stopped for a reload or a quit and the graceful timeout ran out; the
    #: client got a 503 with ``Retry-After``). Not an error of the view. When the application
    #: sent no response, ``status`` is what the client got and this says why: "invalid-http"
    #: (the body was invalid HTTP, e.g. a broken chunked encoding: Uvicorn answered 400 itself),
    #: "client-gone" (the client disconnected first: nothing was sent, ``status`` is 0, the only
    #: case it is), "no-response" (the app returned without one: Uvicorn answered 500).
    cancelled: CancelReason | None = None
    #: Username of the authenticated user the request came in as, when the request loaded its
    #: user (``request.user``); None for anonymous or not loaded (instrument/users.py). Not a
    #: secret; the test generator (asgi_dashboard/testgen) logs in as this user.
    user: str | None = None


# -- WebSocket ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsOpened(Event):
    """A WebSocket handshake arrived (before the consumer accepts or rejects it)."""

    name: ClassVar[str] = "ws-opened"
    id: str
    path: str
    query: str = ""
    generation: int = 0
    #: The server process the connection landed on (see RequestFinished.worker).
    worker: int = 0
    worker_pid: int = 0
    client: str | None = None
    subprotocols: tuple[str, ...] = ()
    request_headers: tuple[Header, ...] = ()
    #: Headers left out of ``request_headers`` (see RequestFinished.request_headers_dropped).
    request_headers_dropped: int = 0


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsAccepted(Event):
    """The consumer accepted the handshake (or rejected it: ``accepted`` False)."""

    name: ClassVar[str] = "ws-accepted"
    id: str
    accepted: bool = True
    #: HTTP status of a rejection (403 for a plain ``close()`` before accept).
    status: int | None = None
    subprotocol: str | None = None
    consumer: str | None = None
    url_kwargs: tuple[tuple[str, str], ...] = ()
    #: Username of the authenticated user of the handshake (``scope["user"]``, which Channels'
    #: ``AuthMiddleware`` loads), None when anonymous or not known (instrument/users.py).
    user: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsFrame(Event):
    """One frame. ``direction`` is "in" (client to consumer) or "out" (consumer to client)."""

    name: ClassVar[str] = "ws-frame"
    id: str
    direction: Literal["in", "out"]
    size: int
    binary: bool = False
    #: Bounded preview: the text itself, or hex of the first bytes for binary frames.
    preview: str = ""
    truncated: bool = False


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class WsClosed(Event):
    """The connection ended."""

    name: ClassVar[str] = "ws-closed"
    id: str
    code: int | None = None
    reason: str = ""
    #: "client", "server", or "error" (the consumer raised).
    by: Literal["client", "server", "error"] = "client"
    duration_ns: int = 0
    frames_in: int = 0
    frames_out: int = 0
    consumer: str | None = None
    error: ExceptionInfo | None = None


# -- channel layer (instrument/layer.py) -------------------------------------------------------

LayerOpName = Literal["send", "group_send", "group_add", "group_discard", "expired", "overflow"]


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class LayerOp(Event):
    """One operation through the project's channel layer, or messages it dropped.

    ``op`` "expired" is not a call: the layer threw away ``dropped`` messages of ``channel``
    that waited longer than its ``expiry`` (in-memory ``_clean_expired``; channels_redis' clean-up
    at a send or group_send, where ``channel`` is the Redis key). ``op`` "overflow": a process's
    channels_redis receive buffer was full and dropped its oldest message (``BoundedQueue``).
    """

    name: ClassVar[str] = "layer"
    op: LayerOpName
    #: The layer's class name ("InMemoryChannelLayer", "RedisChannelLayer" ...).
    layer: str = ""
    group: str | None = None
    channel: str | None = None
    #: The message's ``type`` (send, group_send), None for group_add/discard.
    msg_type: str | None = None
    #: Bytes of the message: as channels_redis serialized it (msgpack) on Redis layers, the
    #: msgpack encoding (msgspec) of it on the in-memory layer; None when not measurable.
    size: int | None = None
    duration_ns: int = 0
    #: Who made the call: the WebSocket connection whose consumer ran it, else the HTTP request.
    conn_id: str | None = None
    request_id: str | None = None
    #: Channels a group_send reached (None when the layer does not say: pub/sub).
    recipients: int | None = None
    #: Messages lost: ``ChannelFull`` (a send raised it; a group_send swallows it per channel),
    #: or expired before anyone received them (``op`` "expired").
    dropped: int = 0
    #: Connections that lost a message (bounded), when the channel belongs to a known consumer.
    dropped_conns: tuple[str, ...] = ()
    #: "ChannelFull", "expired", or the exception the call raised ("Type: message").
    error: str | None = None


@dataclass(frozen=True, slots=True, repr=False, eq=False, kw_only=True)
class HandlerRun(Event):
    """One message a consumer handled (``dispatch``): the handler's time and its SQL."""

    name: ClassVar[str] = "handler"
    conn_id: str | None = None
    consumer: str | None = None
    msg_type: str = ""
    #: The method ``dispatch`` called (``chat.message`` -> ``chat_message``).
    handler: str = ""
    #: True for a channel-layer message (a type not starting with ``websocket.``).
    from_layer: bool = False
    #: The whole ``dispatch``: Channels' own ``aclose_old_connections()`` (a thread hop, counted
    #: in ``sync_hops``) and then the handler.
    duration_ns: int = 0
    sync_hops: int = 0
    sql_count: int = 0
    sql_ns: int = 0
    sql: tuple[SqlQuery, ...] = ()
    error: ExceptionInfo | None = None
