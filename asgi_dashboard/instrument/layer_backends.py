"""The backend-specific seams of the channel-layer tap (see instrument/layer.py).

* which classes are wrapped: channels' ``InMemoryChannelLayer``, channels_redis'
  ``RedisChannelLayer`` and ``RedisPubSubLoopLayer`` when installed, and the backend classes
  ``settings.CHANNEL_LAYERS`` names;
* **size** on Redis layers: ``serialize`` (``RedisChannelLayer.serialize``,
  ``RedisPubSubChannelLayer.serialize``) tells the running operation the length it produced;
* **recipients** of a Redis ``group_send``: ``_map_channel_keys_to_connection(channel_names,
  message)`` is called with the group's members;
* **drops** a Redis ``group_send`` only logs (the Lua script's over-capacity count);
* **expiry** on the in-memory layer: ``_clean_expired``.
"""

from __future__ import annotations

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
    _install_in_memory()


__all__ = [
    "OVER_CAPACITY",
    "OverCapacityFilter",
    "in_memory_classes",
    "install",
    "known_classes",
]
