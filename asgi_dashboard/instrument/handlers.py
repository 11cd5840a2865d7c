"""Consumer message handlers, timed: one :class:`~asgi_dashboard.events.HandlerRun` per message a
consumer's ``dispatch`` handles (a client frame, a channel-layer message such as ``chat.message``).

``AsyncConsumer.__call__`` (``channels/consumer.py``) passes ``self.dispatch`` to
``await_many_dispatch`` for every message of the connection; hooks.py's consumer patch replaces
the *instance's* ``dispatch`` with :func:`timed_dispatch` before calling the original, so a
subclass's own ``dispatch`` and ``SyncConsumer``'s (a ``database_sync_to_async`` in a thread)
are timed the same way. While the handler runs, ``records.current`` is a fresh
:class:`~.records.RequestRecord`: the SQL recording of instrument/sql.py fills it exactly as it
fills a request's (``database_sync_to_async`` copies the context into its thread).

The time is the whole ``dispatch``: Channels' ``AsyncConsumer.dispatch`` first awaits
``aclose_old_connections()``, a ``sync_to_async`` hop to a thread, then the handler; under load
the hop can cost more than the handler. The hops are counted (``sync_hops``, by hooks.py's
``SyncToAsync`` wrapper on the handler's record).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..events import ExceptionInfo, HandlerRun
from . import layer
from .errors import exception_info
from .records import ConnectionRecord, RequestRecord, current

#: Exceptions that end a consumer on purpose, not errors of the handler.
_CONTROL_FLOW = ("StopConsumer", "CancelledError", "DenyConnection")


def timed_dispatch(
    consumer: Any,
    dispatch: Callable[[Any], Awaitable[Any]],
    conn: ConnectionRecord | None,
    project_dir: str | None,
) -> Callable[[Any], Awaitable[Any]]:
    """``dispatch`` of ``consumer``, reporting each handled message as a HandlerRun."""
    conn_id = conn.conn_id if conn is not None else None
    owned: list[str] = []

    async def dispatch_timed(message: Any) -> Any:
        emit = layer.emitter()
        if emit is None:
            return await dispatch(message)
        if conn_id and not owned:  # the consumer's channel exists by the first message
            channel = getattr(consumer, "channel_name", None)
            if isinstance(channel, str):
                layer.own(channel, conn_id)
                owned.append(channel)
        mtype = message.get("type") if isinstance(message, dict) else None
        mtype = mtype if isinstance(mtype, str) else ""
        rec = RequestRecord(start_ns=time.perf_counter_ns())
        token = current.set(rec)
        error: ExceptionInfo | None = None
        try:
            return await dispatch(message)
        except BaseException as exc:
            if type(exc).__name__ not in _CONTROL_FLOW:
                error = exception_info(exc, project_dir)
            raise
        finally:
            current.reset(token)
            emit(
                HandlerRun(
                    conn_id=conn_id,
                    consumer=conn.consumer if conn is not None else None,
                    msg_type=mtype,
                    handler=mtype.replace(".", "_"),
                    from_layer=bool(mtype) and not mtype.startswith("websocket."),
                    duration_ns=time.perf_counter_ns() - rec.start_ns,
                    sync_hops=rec.sync_hops,
                    sql_count=rec.sql_count,
                    sql_ns=rec.sql_ns,
                    sql=tuple(rec.sql),
                    error=error,
                )
            )

    return dispatch_timed


# Channel names are not forgotten when the consumer ends (the owners map is bounded): a message
# that expires, or finds the channel full, after its consumer left still names the connection.
__all__ = ["timed_dispatch"]
