"""Chat clients for the deploy tests, and which server process holds each connection.

A real ``websockets`` client joins ``/ws/chat/<room>/`` of the demo (``demoapp.consumers.
ChatConsumer``: it joins the room's channel-layer group before accepting, so once the handshake
is done the client is a member). Which process accepted a connection is read from Linux's own
tables: ``/proc/net/tcp`` maps the connection (server port, client port) to a socket inode, and
``/proc/<pid>/fd`` shows which of the candidate processes holds that socket.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

RECEIVE_TIMEOUT_S = 10.0
_ESTABLISHED = "01"


def _connection_inode(server_port: int, client_port: int) -> str | None:
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/net/{table}", encoding="ascii") as f:
                next(f, None)  # header
                rows = [line.split() for line in f]
        except OSError:
            continue
        for fields in rows:
            if len(fields) < 10 or fields[3] != _ESTABLISHED:
                continue
            local = int(fields[1].rpartition(":")[2], 16)
            remote = int(fields[2].rpartition(":")[2], 16)
            if (local, remote) == (server_port, client_port):
                return fields[9]
    return None


def connection_owner(server_port: int, client_port: int, pids: Iterable[int]) -> int | None:
    """The PID among ``pids`` whose file descriptors hold the server side of the connection."""
    inode = _connection_inode(server_port, client_port)
    if inode is None:
        return None
    wanted = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"{fd_dir}/{name}") == wanted:
                    return pid
            except OSError:
                continue
    return None


@dataclass
class ChatClient:
    """One connected chat client: its name in the transcript and the server PID holding it."""

    name: str
    ws: ClientConnection
    server_pid: int | None

    async def say(self, message: str) -> None:
        await self.ws.send(json.dumps({"message": message}))

    async def next_message(self, timeout: float = RECEIVE_TIMEOUT_S) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        data = json.loads(frame)
        assert isinstance(data, dict), data
        return data


async def join_chat(name: str, port: int, room: str, pids: Iterable[int]) -> ChatClient:
    """Connect to the chat room on ``127.0.0.1:port``; find which of ``pids`` accepted it."""
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/chat/{room}/",
        # Channels' AllowedHostsOriginValidator rejects a handshake without an allowed Origin.
        additional_headers={"Origin": f"http://127.0.0.1:{port}"},
        open_timeout=RECEIVE_TIMEOUT_S,
    )
    client_port = int(ws.local_address[1])
    return ChatClient(name, ws, connection_owner(port, client_port, pids))
