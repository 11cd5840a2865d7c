"""The demo's chat across two server processes: Channels groups through Redis (``REDIS_URL``).

Two independent Uvicorn processes serve the demo on two ports (two PIDs, the clearest proof that
they share nothing but the channel layer). A client on process A and one on process B join the
same room; with ``REDIS_URL`` (``channels_redis.core.RedisChannelLayer``, a real redis-server
from the ``redis_url`` fixture) each receives the other's message. The negative control runs the
same two processes with the default in-memory layer: a message stays in its own process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_DIR, REPO
from tests.deploy.chat import ChatClient, join_chat
from tests.deploy.processes import ServerProcess

pytestmark = pytest.mark.slow

#: How long B listens for A's message in the in-memory control. Through Redis the same message
#: arrives in milliseconds; only the absence is waited for, with this bound.
ABSENCE_WAIT_S = 1.5
RUNNING = r"Uvicorn running on http://127\.0\.0\.1:(\d+)"


@contextlib.contextmanager
def two_demo_servers(tmp_path: Path, redis_url: str | None) -> Iterator[list[tuple[int, int]]]:
    """Start two plain Uvicorn processes of the demo on free ports; yield [(pid, port)] x 2."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["ASGI_DASH_DEMO_DB"] = str(tmp_path / "demo.sqlite3")  # shared: the demo locks migrate
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    args = [sys.executable, "-m", "uvicorn", "--app-dir", str(DEMO_DIR)]
    args += ["--host", "127.0.0.1", "--port", "0", "demosite.asgi:application"]
    servers = [ServerProcess(args, env, REPO) for _ in range(2)]
    try:
        found = [(s.pid, int(s.wait_for(RUNNING)[0].group(1))) for s in servers]
        yield found
    finally:
        for server in servers:
            server.stop()


async def _join_both(servers: list[tuple[int, int]], room: str) -> tuple[ChatClient, ChatClient]:
    (pid_a, port_a), (pid_b, port_b) = servers
    alice = await join_chat("alice", port_a, room, [pid_a, pid_b])
    bob = await join_chat("bob", port_b, room, [pid_a, pid_b])
    # Each client is held by the process it connected to, and they are two processes.
    assert (alice.server_pid, bob.server_pid) == (pid_a, pid_b)
    assert pid_a != pid_b
    return alice, bob


async def test_chat_crosses_processes_through_redis(tmp_path: Path, redis_url: str) -> None:
    with two_demo_servers(tmp_path, redis_url) as servers:
        alice, bob = await _join_both(servers, "redis-room")
        transcript = []
        try:
            for sender, receivers in ((alice, (alice, bob)), (bob, (bob, alice))):
                text = f"hello from {sender.name} in pid {sender.server_pid}"
                await sender.say(text)
                transcript.append(f"{sender.name} (server pid {sender.server_pid}) sent {text!r}")
                for receiver in receivers:
                    got = await receiver.next_message()
                    assert got["message"] == text, got
                    assert got["room"] == "redis-room"
                    transcript.append(
                        f"  {receiver.name} (server pid {receiver.server_pid}) received it"
                    )
        finally:
            await alice.ws.close()
            await bob.ws.close()
        print("\n".join(["two-process chat through Redis:", *transcript]))


async def test_in_memory_layer_does_not_cross_processes(tmp_path: Path) -> None:
    """The control: without REDIS_URL the same setup delivers only inside each process, so the
    test above could fail."""
    with two_demo_servers(tmp_path, redis_url=None) as servers:
        alice, bob = await _join_both(servers, "memory-room")
        try:
            await alice.say("only pid A hears this")
            assert (await alice.next_message())["message"] == "only pid A hears this"
            await bob.say("only pid B hears this")
            # Bob's own message arrives; Alice's never does (it would come through the layer).
            assert (await bob.next_message())["message"] == "only pid B hears this"
            with pytest.raises(TimeoutError):
                await bob.next_message(timeout=ABSENCE_WAIT_S)
            with pytest.raises(TimeoutError):
                await alice.next_message(timeout=ABSENCE_WAIT_S)
        finally:
            await alice.ws.close()
            await bob.ws.close()
