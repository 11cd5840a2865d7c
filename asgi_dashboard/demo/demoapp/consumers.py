"""WebSocket consumers: an echo server and a group chat over the channel layer."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer


class EchoConsumer(AsyncWebsocketConsumer):
    """Reply ``You said: <text>`` to text frames and send binary frames back unchanged.

    Async, like every consumer here: a sync consumer runs each handler in a thread, which is only
    worth it when the handler calls the ORM.
    """

    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.send(text_data=f"You said: {text_data}")
        elif bytes_data is not None:
            await self.send(bytes_data=bytes_data)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """A chat room per URL: everyone connected to ``/ws/chat/<room>/`` sees every message.

    Each connection joins the channel-layer group of its room; a message is sent to the group as
    a ``chat.message`` event, and the layer calls :meth:`chat_message` on every member
    (``type`` ``chat.message`` -> method ``chat_message``), which forwards it to its own client.
    """

    room: str
    group_name: str

    async def connect(self) -> None:
        self.room = self.scope["url_route"]["kwargs"]["room"]
        self.group_name = f"chat_{self.room}"
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        message = content.get("message") if isinstance(content, dict) else None
        if not isinstance(message, str):
            await self.send_json({"error": 'send {"message": "<text>"}'})
            return
        await self.channel_layer.group_send(
            self.group_name,
            {"type": "chat.message", "message": message, "user": self._username()},
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"message": event["message"], "user": event["user"], "room": self.room}
        )

    def _username(self) -> str:
        # AuthMiddlewareStack puts the session's user in the scope (a lazy object; reading
        # is_authenticated resolves it, with the DB lookup done at handshake time by Channels).
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            return str(user.get_username())
        return "anonymous"
