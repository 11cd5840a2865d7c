"""The channel layer, visible: every ``send``, ``group_send``, ``group_add`` and ``group_discard``
through the project's layer becomes a :class:`~asgi_dashboard.events.LayerOp`, and no message
is lost silently.

Where (read against channels 4.3 ``channels/layers.py`` and channels_redis 4.3 ``core.py`` /
``pubsub.py``): ``layer_backends.install()`` (from ``hooks.install``) wraps the four methods
*on the class* that defines them:
``InMemoryChannelLayer``, ``RedisChannelLayer``, ``RedisPubSubLoopLayer`` (the per-loop layer
``RedisPubSubChannelLayer`` proxies every call to), and the class of every backend named in
``settings.CHANNEL_LAYERS`` that defines one of them itself (a project's own layer). A wrapper
that finds an operation already running in its context (a subclass calling ``super()``) just
passes through, so nothing is counted twice.

What each field is:

* **conn_id / request_id**: the WebSocket connection whose consumer made the call
  (``records.current_connection``, set by the WebSocket tap for the consumer's task and the
  tasks it starts), else the HTTP request (``records.current``: a view calling ``group_send``).
* **size**: bytes of the message. On Redis layers, the length of what channels_redis itself
  serialized (its ``serialize`` is wrapped: msgpack, encrypted when configured; for a
  ``group_send`` the largest per-recipient copy, which carries ``__asgi_channel__``; a message
  nothing serialized, e.g. to an empty group, gets the in-memory measure). On the
  in-memory layer nothing is serialized: the size is ``len(msgspec.msgpack.encode(message))``,
  what Redis would carry; its cost grows with the message like the layer's own ``deepcopy`` of
  it per recipient, and is below it (bench/layer.py). None when the message is not msgpack-able.
* **dropped / error "ChannelFull"**: a ``send`` that raised ``ChannelFull`` (re-raised as
  before). ``group_send`` swallows it per channel: the in-memory layer sends to each member
  with ``self.send`` in tasks created inside the call (they copy this context), so the wrapper
  of ``send`` sees each ``ChannelFull`` and counts it on the ``group_send``; channels_redis
  counts members over capacity in its Lua script and only logs it (``logger.info("%s of %s
  channels over capacity in group %s")``): a filter on that logger reads the count (the
  logger's level is lowered to INFO if needed, and the filter keeps what the project's level
  would have hidden hidden).
* **op "expired"**: the in-memory layer drops messages older than ``expiry`` in
  ``_clean_expired`` (run by every ``receive`` and ``group_send``) and removes their channel
  from all its groups: the wrapper counts them per channel. channels_redis drops expired
  messages inside Redis (``ZREMRANGEBYSCORE`` whose result it discards, key ``EXPIRE``):
  not observable without extra round trips, so not counted (said in the README).

Outside a server the tap serves (no sink set), every wrapper calls straight through.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable
from typing import Any

from ..events import Event, LayerOp, LayerOpName
from .records import current, current_connection

#: Connections named per drop (the count stays exact).
MAX_DROPPED_CONNS = 8
#: Channel names remembered with the connection whose consumer owns them.
MAX_OWNERS = 10_000

_emit: Callable[[Event], None] | None = None
#: channel name -> the connection id of the consumer that receives on it (instrument/handlers).
_owners: dict[str, str] = {}
_MARK = "__asgi_dash_layer__"
#: channels' InMemoryChannelLayer once installed (its group members are readable).
_in_memory: tuple[type, ...] = ()


class _Op:
    """What an operation in progress learns from the layer's inner calls."""

    __slots__ = ("dropped", "dropped_conns", "expired", "name", "recipients", "size")

    def __init__(self, name: str) -> None:
        self.name = name
        self.size: int | None = None
        self.recipients: int | None = None
        self.dropped = 0
        self.dropped_conns: list[str] = []
        #: (Redis key, messages) that channels_redis removed as expired during the call.
        self.expired: list[tuple[str, int]] | None = None

    def drop(self, channel: str | None, count: int = 1) -> None:
        self.dropped += count
        owner = _owners.get(channel) if channel else None
        conns = self.dropped_conns
        if owner and owner not in conns and len(conns) < MAX_DROPPED_CONNS:
            conns.append(owner)


#: The operation seen by layer calls made inside a group_send's per-member send.
_INNER = _Op("inner")
_op: contextvars.ContextVar[_Op | None] = contextvars.ContextVar("asgi_dash_layer_op", default=None)


def set_sink(emit: Callable[[Event], None] | None) -> None:
    """Where layer events go (the tap's sink); None turns the wrappers into pass-throughs."""
    global _emit
    _emit = emit


def emitter() -> Callable[[Event], None] | None:
    return _emit


def own(channel: str, conn_id: str) -> None:
    """Remember that ``conn_id``'s consumer receives on ``channel`` (to name who lost a message)."""
    if len(_owners) >= MAX_OWNERS:
        _owners.clear()
    _owners[channel] = conn_id


def caller() -> tuple[str | None, str | None]:
    """(connection id, request id) of the code running now."""
    conn = current_connection.get()
    if conn is not None and conn.conn_id:
        return conn.conn_id, None
    rec = current.get()
    return None, (rec.request_id if rec is not None else None)


_encoder: Any = None


def _msgpack_size(message: Any) -> int | None:
    global _encoder
    if _encoder is None:
        import msgspec  # the event pipe's dependency: already loaded in a served process

        _encoder = msgspec.msgpack.Encoder()
    try:
        return len(_encoder.encode(message))
    except Exception:  # not msgpack-able (a custom object): the size is unknown
        return None


def _layer_name(layer: Any) -> str:
    name = type(layer).__name__
    return "RedisPubSubChannelLayer" if name == "RedisPubSubLoopLayer" else name


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _report(
    layer: Any,
    op: _Op,
    took: int,
    error: str | None,
    group: str | None = None,
    channel: str | None = None,
    msg_type: str | None = None,
) -> None:
    emit = _emit
    if emit is None:
        return
    conn_id, request_id = caller()
    emit(
        LayerOp(
            op=op.name,  # type: ignore[arg-type]
            layer=_layer_name(layer),
            size=op.size,
            duration_ns=took,
            conn_id=conn_id,
            request_id=request_id,
            recipients=op.recipients,
            dropped=op.dropped,
            dropped_conns=tuple(op.dropped_conns),
            error=error if error is not None else ("ChannelFull" if op.dropped else None),
            group=group,
            channel=channel,
            msg_type=msg_type,
        )
    )


IN_MEMORY_EXPIRED = "expired (channel removed from its groups)"
REDIS_EXPIRED = "expired in Redis before anyone received them"


def _emit_expired(
    layer: Any,
    channel: str | None,
    lost: int,
    why: str = IN_MEMORY_EXPIRED,
    op: LayerOpName = "expired",
    msg_type: str | None = None,
) -> None:
    """``lost`` messages of ``channel`` dropped unreceived: expired (in-memory
    ``_clean_expired``, Redis' clean-up in send/group_send), or ``op`` "overflow"."""
    emit = _emit
    if emit is None:
        return
    conn_id, request_id = caller()
    owner = _owners.get(channel) if channel else None
    emit(
        LayerOp(
            op=op,
            layer=layer if isinstance(layer, str) else _layer_name(layer),
            channel=channel,
            msg_type=msg_type,
            conn_id=conn_id,
            request_id=request_id,
            dropped=lost,
            dropped_conns=(owner,) if owner else (),
            error=why,
        )
    )


def _report_expired(layer: Any, expired: list[tuple[str, int]]) -> None:
    for key, lost in expired:
        _emit_expired(layer, key, lost, REDIS_EXPIRED)


def _is_channel_full(exc: BaseException) -> bool:
    return type(exc).__name__ == "ChannelFull"


def _wrap_send(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def send(self: Any, channel: str, message: Any) -> Any:
        outer = _op.get()
        if _emit is None or outer is not None:
            # Inside another operation: a group_send's per-member send (in-memory), or a
            # subclass's send calling this one. Only a group_send needs to hear of a drop, and
            # once: a send wrapped again below (a subclass's super().send) sees _INNER.
            if outer is None or outer.name != "group_send":
                return await original(self, channel, message)
            token = _op.set(_INNER)
            try:
                return await original(self, channel, message)
            except BaseException as exc:
                if _is_channel_full(exc):
                    outer.drop(channel)
                raise
            finally:
                _op.reset(token)
        op = _Op("send")
        token = _op.set(op)
        start = time.perf_counter_ns()
        error = None
        try:
            return await original(self, channel, message)
        except BaseException as exc:
            if _is_channel_full(exc):
                op.drop(channel)
            else:
                error = _error_text(exc)
            raise
        finally:
            _op.reset(token)
            _finish(self, op, start, message, error, channel=channel)

    return send


def _finish(layer: Any, op: _Op, start: int, message: Any, error: str | None, **where: str) -> None:
    """Report a ``send``/``group_send`` that ended (its size, time, error and expired drops)."""
    took = time.perf_counter_ns() - start
    if op.size is None:  # (on Redis layers ``serialize`` told it, see layer_backends)
        op.size = _msgpack_size(message)
    _report(layer, op, took, error, msg_type=_type_of(message), **where)
    if op.expired:
        _report_expired(layer, op.expired)


def _wrap_group_send(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def group_send(self: Any, group: str, message: Any) -> Any:
        if _emit is None or _op.get() is not None:
            return await original(self, group, message)
        op = _Op("group_send")
        if isinstance(self, _in_memory):  # its members, before the send (a dict by group)
            op.recipients = len(getattr(self, "groups", {}).get(group) or ())
        token = _op.set(op)
        start = time.perf_counter_ns()
        error = None
        try:
            return await original(self, group, message)
        except BaseException as exc:
            error = _error_text(exc)
            raise
        finally:
            _op.reset(token)
            _finish(self, op, start, message, error, group=group)

    return group_send


def _wrap_membership(original: Callable[..., Any], name: LayerOpName) -> Callable[..., Any]:
    @functools.wraps(original)
    async def membership(self: Any, group: str, channel: str) -> Any:
        if _emit is None or _op.get() is not None:
            return await original(self, group, channel)
        op = _Op(name)
        token = _op.set(op)
        start = time.perf_counter_ns()
        error = None
        try:
            return await original(self, group, channel)
        except BaseException as exc:
            error = _error_text(exc)
            raise
        finally:
            took = time.perf_counter_ns() - start
            _op.reset(token)
            _report(self, op, took, error, group=group, channel=channel)

    return membership


def _type_of(message: Any) -> str | None:
    mtype = message.get("type") if isinstance(message, dict) else None
    return mtype if isinstance(mtype, str) else None


def _mark(fn: Callable[..., Any]) -> Callable[..., Any]:
    setattr(fn, _MARK, True)
    return fn


def _wrap_class(cls: type) -> None:
    """Wrap the layer methods ``cls`` defines itself (inherited ones are wrapped on their own
    class), once."""
    makers: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
        "send": _wrap_send,
        "group_send": _wrap_group_send,
        "group_add": lambda f: _wrap_membership(f, "group_add"),
        "group_discard": lambda f: _wrap_membership(f, "group_discard"),
    }
    for name, make in makers.items():
        original = cls.__dict__.get(name)
        if callable(original) and not getattr(original, _MARK, False):
            setattr(cls, name, _mark(make(original)))


def use_in_memory_classes(classes: tuple[type, ...]) -> None:
    """The in-memory layer classes (their group members are readable: ``recipients``)."""
    global _in_memory
    _in_memory = classes


__all__ = ["caller", "emitter", "own", "set_sink", "use_in_memory_classes"]
