"""The backend-specific seams of the channel-layer tap (see instrument/layer.py).

* which classes are wrapped: channels' ``InMemoryChannelLayer``, channels_redis'
  ``RedisChannelLayer`` and ``RedisPubSubLoopLayer`` when installed, and the backend classes
  ``settings.CHANNEL_LAYERS`` names;
* **size** on Redis layers: ``serialize`` (``RedisChannelLayer.serialize``,
  ``RedisPubSubChannelLayer.serialize``) tells the running operation the length it produced;
* **recipients** of a Redis ``group_send``: ``_map_channel_keys_to_connection(channel_names,
  message)`` is called with the group's members;
* **drops** a Redis ``group_send`` only logs (the Lua script's over-capacity count);
* **expiry** on the in-memory layer: ``_clean_expired``; on channels_redis, what its own
  clean-up removes: ``send`` awaits ``ZREMRANGEBYSCORE`` on the channel's key, ``group_send``
  runs one per member key in a pipeline; both results are read (redis-py's async
  ``Redis.zremrangebyscore`` and ``Pipeline.execute``, only inside a layer call). Messages whose
  whole key expired (its ``EXPIRE``, when nothing was sent to it for ``expiry`` seconds) vanish
  inside Redis: not observable without extra round trips, not counted;
* **overflow**: channels_redis' receive buffer (``BoundedQueue``, per channel, in the receiving
  process) drops its oldest message when full.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from . import layer
from .layer import _MARK, _emit_expired, _mark, _op, _wrap_class

#: The message channels_redis logs after a group_send's Lua script (``core.py`` group_send).
OVER_CAPACITY = "%s of %s channels over capacity in group %s"


def known_classes() -> Iterator[type]:
    """Layer classes to wrap: the ones shipped by channels(_redis), then the configured ones."""
    try:
        from channels.layers import InMemoryChannelLayer
    except ImportError:  # a project without Channels
        return
    yield InMemoryChannelLayer
    try:
        from channels_redis.core import RedisChannelLayer
        from channels_redis.pubsub import RedisPubSubLoopLayer
    except ImportError:
        pass
    else:
        yield RedisChannelLayer
        yield RedisPubSubLoopLayer
    yield from _configured()


def in_memory_classes() -> tuple[type, ...]:
    try:
        from channels.layers import InMemoryChannelLayer
    except ImportError:
        return ()
    return (InMemoryChannelLayer,)


def _configured() -> Iterator[type]:
    from django.conf import settings
    from django.utils.module_loading import import_string

    for config in (getattr(settings, "CHANNEL_LAYERS", None) or {}).values():
        try:
            cls = import_string(config["BACKEND"])
        except Exception:  # Channels reports a bad BACKEND itself, when the layer is used
            continue
        if isinstance(cls, type):
            yield cls


def _sized(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def serialize(self: Any, message: Any) -> Any:
        data = original(self, message)
        op = _op.get()
        if op is not None:
            size = len(data)
            if op.size is None or size > op.size:
                op.size = size
        return data

    return serialize


def _counted(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def map_keys(self: Any, channel_names: Any, message: Any) -> Any:
        op = _op.get()
        if op is not None:
            op.recipients = len(channel_names)
        return original(self, channel_names, message)

    return map_keys


class OverCapacityFilter(logging.Filter):
    """Reads the over-capacity count channels_redis logs at INFO after a group_send.

    Installed on ``channels_redis.core``'s logger, whose level is lowered to INFO so that
    ``logger.info`` reaches it; every record below the level the project had set (``threshold``)
    is then stopped here, as the project's level would have stopped it.
    """

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == OVER_CAPACITY and isinstance(record.args, tuple) and record.args:
            op = _op.get()
            if op is not None and op.name == "group_send":
                with contextlib.suppress(TypeError, ValueError):
                    op.drop(None, int(str(record.args[0])))
        return record.levelno >= self.threshold


def _expiry_counted(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def zremrangebyscore(self: Any, name: Any, min: Any, max: Any) -> Any:
        result = original(self, name, min, max)
        op = _op.get()
        if op is None or op.name != "send" or not asyncio.iscoroutine(result):
            return result  # not channels_redis' send (a pipeline returns itself)
        return _removed(result, op, name)

    return zremrangebyscore


async def _removed(pending: Any, op: Any, key: Any) -> Any:
    removed = await pending
    if isinstance(removed, int) and removed > 0:
        _note_expired(op, key, removed)
    return removed


def _note_expired(op: Any, key: Any, removed: int) -> None:
    name = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    if op.expired is None:
        op.expired = []
    op.expired.append((name, removed))


def _pipeline_counted(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        op = _op.get()
        if op is None or op.name != "group_send":
            return await original(self, *args, **kwargs)
        stack = list(getattr(self, "command_stack", ()))
        results = await original(self, *args, **kwargs)
        for (command, _options), removed in zip(stack, results or (), strict=False):
            counted = command and command[0] == "ZREMRANGEBYSCORE" and isinstance(removed, int)
            if counted and removed > 0:
                _note_expired(op, command[1], removed)
        return results

    return execute


def _overflow_counted(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_nowait(self: Any, item: Any) -> Any:
        if self.full() and layer.emitter() is not None:
            oldest = self._queue[0] if self._queue else None
            what = oldest.get("type") if isinstance(oldest, dict) else None
            _emit_expired(
                "RedisChannelLayer",
                None,  # the queue does not know its channel (the receive_buffer's key)
                1,
                "receive buffer full: channels_redis dropped the oldest message",
                "overflow",
                what if isinstance(what, str) else None,
            )
        return original(self, item)

    return put_nowait


def _wrap(cls: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = cls.__dict__.get(name)
    if original is None:  # inherited: wrap what the class resolves to, on the class itself
        original = getattr(cls, name, None)
    if callable(original) and not getattr(original, _MARK, False):
        setattr(cls, name, _mark(make(original)))


def _install_redis_drops() -> None:
    try:
        from channels_redis.core import BoundedQueue
        from redis.asyncio.client import Pipeline, Redis
    except ImportError:
        return
    _wrap(Redis, "zremrangebyscore", _expiry_counted)
    _wrap(Pipeline, "execute", _pipeline_counted)
    _wrap(BoundedQueue, "put_nowait", _overflow_counted)


def _install_redis() -> None:
    try:
        from channels_redis.core import RedisChannelLayer
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:
        return
    for cls in (RedisChannelLayer, RedisPubSubChannelLayer):
        original = cls.__dict__.get("serialize")
        if callable(original) and not getattr(original, _MARK, False):
            cls.serialize = _mark(_sized(original))
    original = RedisChannelLayer.__dict__.get("_map_channel_keys_to_connection")
    if callable(original) and not getattr(original, _MARK, False):
        RedisChannelLayer._map_channel_keys_to_connection = _mark(_counted(original))
    logger = logging.getLogger("channels_redis.core")
    if not any(isinstance(f, OverCapacityFilter) for f in logger.filters):
        threshold = logger.getEffectiveLevel()
        if threshold > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addFilter(OverCapacityFilter(threshold))


def _expiring(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _clean_expired(self: Any) -> Any:
        channels = self.channels
        if not channels or layer.emitter() is None:
            return original(self)
        now = time.time()
        # The same test the layer makes (``queue._queue[0][0] < time.time()``), heads only.
        stale = [(name, q, q.qsize()) for name, q in channels.items() if _expired_head(q, now)]
        result = original(self)
        for name, queue, before in stale:
            lost = before - queue.qsize()
            if lost > 0:
                _emit_expired(self, name, lost)
        return result

    return _clean_expired


def _expired_head(queue: Any, now: float) -> bool:
    items: Any = getattr(queue, "_queue", None)
    return bool(items) and bool(items[0][0] < now)


def _install_in_memory() -> None:
    try:
        from channels.layers import InMemoryChannelLayer
    except ImportError:
        return
    original = InMemoryChannelLayer.__dict__.get("_clean_expired")
    if callable(original) and not getattr(original, _MARK, False):
        InMemoryChannelLayer._clean_expired = _mark(_expiring(original))


def install() -> None:
    """Wrap the layers Channels and channels_redis define, and the project's configured ones
    (instrument/layer.py), with the size, recipient, drop and expiry seams."""
    layer.use_in_memory_classes(in_memory_classes())
    for cls in known_classes():
        _wrap_class(cls)
    _install_redis()
    _install_redis_drops()
    _install_in_memory()


__all__ = [
    "OVER_CAPACITY",
    "OverCapacityFilter",
    "in_memory_classes",
    "install",
    "known_classes",
]
