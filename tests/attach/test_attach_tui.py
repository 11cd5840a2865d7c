"""``asgi-dash collect`` in the TUI: attached traffic shows, the server keys do not apply.

The app is the one the CLI builds (``make_app`` with the collector runtime); the attached process
is this one (the wrapper's sender thread connects to the app's socket like a worker would).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from textual.pilot import Pilot

from asgi_dashboard.app import make_app
from asgi_dashboard.attaching.wrapper import AttachedApp
from asgi_dashboard.instrument import identity
from asgi_dashboard.runtime import make_runtime

from .support import short_dir
from .test_attach_units import collecting, hello_app


async def wait(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.01)


async def test_collect_shows_attached_requests_and_refuses_restart() -> None:
    with short_dir() as folder:
        sock = folder / "c.sock"
        app = make_app(collecting(sock), make_runtime)
        attached = AttachedApp(hello_app, str(sock))
        try:
            async with app.run_test(size=(160, 48)) as pilot:
                await wait(pilot, lambda: app.model.status.state == "running")
                assert app.model.status.mode == "collect"
                transport = httpx.ASGITransport(app=attached)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    attached.start()  # the sender (the first call would start it)
                    await wait(pilot, lambda: bool(attached.sink and attached.sink.connected))
                    for _ in range(3):
                        await client.get("/seen")
                await wait(pilot, lambda: app.model.status.requests == 3)
                await pilot.press("r")
                await pilot.pause()
                messages = [n.message for n in app._notifications]
                assert any("not available while collecting" in m for m in messages), messages
                assert not app.check_action("start_on_free_port", ())
                assert app.model.status.state == "running"
        finally:
            if attached.sink is not None:
                attached.sink.close()
            identity.set_worker(0)
    assert not sock.exists()  # the app stopped its runtime: the socket file is gone
