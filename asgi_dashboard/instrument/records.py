"""The mutable per-request record, and the ``ContextVar`` that carries it.

The ASGI tap creates a :class:`RequestRecord` and sets :data:`current` for the request's task.
``asgiref.sync.sync_to_async`` runs the sync work (sync views, the ORM, sync middleware) in
``contextvars.copy_context().run``, so the same record is visible in executor threads: that is
how SQL executed on a thread is attributed to the right request (reading ``connection.queries``
on the loop thread would give 0).
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from ..events import ExceptionInfo, FrameInfo, Kind, SqlQuery

#: Statements kept per request (the count and total time stay exact beyond this).
MAX_SQL_STATEMENTS = 200
MAX_SQL_TEXT = 2000

#: Where a statement was issued: its FrameInfo, the frame's depth (from the caller of
#: instrument/sql.py ``_walk``), the frame's code and line.
SqlSite = tuple[FrameInfo, int, CodeType, int]


@dataclass(slots=True)
class RequestRecord:
    """What the hooks learn about one HTTP request while it runs."""

    start_ns: int
    method: str = "GET"
    route: str | None = None
    url_name: str | None = None
    view: str | None = None
    kind: Kind | None = None
    #: Django's ``HttpRequest`` (set when the request reaches ``BaseHandler``), its
    #: ``ResolverMatch`` once Django resolved it, and whether ``resolve_request`` ran at all.
    request: Any = None
    match: Any = None
    reached_handler: bool = False
    #: The innermost middleware entered so far, and the last ``process_view`` called (names).
    middleware: str | None = None
    view_middleware: str | None = None
    #: The middleware that returned the response before the view ran (see instrument/refusals).
    answered_by: str | None = None
    #: perf_counter_ns when Django handed a sync view to ``sync_to_async``.
    dispatch_ns: int = 0
    view_ns: int | None = None
    thread_wait_ns: int | None = None
    template_ns: int = 0
    template_in_view_ns: int = 0
    template_depth: int = 0
    #: True while the view callable runs (templates rendered then are part of the view time).
    in_view: bool = False
    sql_count: int = 0
    sql_ns: int = 0
    sql: list[SqlQuery] = field(default_factory=list)
    sync_hops: int = 0
    #: The first ``hops.MAX_HOPS`` of those hops, as ``hops.HopRecord`` (instrument/hops.py).
    hops: list[Any] = field(default_factory=list)
    error: ExceptionInfo | None = None
    #: The tap's id of the request (channel-layer operations a view makes carry it).
    request_id: str | None = None

    #: Characters of parameter text kept so far (bounded per request: see instrument/sql.py).
    sql_param_chars: int = 0
    #: The asyncio task that last called ``sync_to_async`` for the request (Django serves the
    #: view in a task of its own). A query the async ORM runs on a worker thread has no project
    #: frame on that thread's stack: the line that awaited it is down this task's coroutine
    #: chain (instrument/sql.py).
    task: asyncio.Task[Any] | None = None
    #: SQL text -> where its project frame was last time (instrument/sql.py ``_source``).
    sql_sites: dict[str, SqlSite] = field(default_factory=dict)

    def add_sql(
        self,
        sql: str,
        duration_ns: int,
        many: bool,
        params: tuple[str, ...] = (),
        source: FrameInfo | None = None,
    ) -> None:
        """Count one statement; keep it (bounded) unless :data:`MAX_SQL_STATEMENTS` are kept.
        Callers that compute ``params``/``source`` check :meth:`keeps_sql` first."""
        self.sql_count += 1
        self.sql_ns += duration_ns
        if len(self.sql) < MAX_SQL_STATEMENTS:
            self.sql.append(SqlQuery(sql[:MAX_SQL_TEXT], duration_ns, many, params, source))

    def keeps_sql(self) -> bool:
        """Whether the next statement is kept in :attr:`sql` (else only counted)."""
        return len(self.sql) < MAX_SQL_STATEMENTS


@dataclass(slots=True)
class ConnectionRecord:
    """What the hooks learn about one WebSocket connection (the consumer that took it)."""

    consumer: str | None = None
    url_kwargs: tuple[tuple[str, str], ...] = ()
    #: The tap's id of the connection (channel-layer operations and handler runs carry it).
    conn_id: str | None = None
    #: Username of the authenticated ``scope["user"]`` (Channels' AuthMiddleware), if loaded.
    user: str | None = None


#: The record of the request (or connection) whose code is running now, if any.
current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "asgi_dash_request", default=None
)
current_connection: contextvars.ContextVar[ConnectionRecord | None] = contextvars.ContextVar(
    "asgi_dash_connection", default=None
)
