"""The dashboard (TUI, headless via ``run_test``) in its own process, for the memory figure.

``python -m bench.memory_app PROJECT_DIR SETTINGS MAX_SECONDS``: builds the app exactly as the
CLI does (``make_app(config)``, default history size, child-mode runtime), prints one JSON line
``{"url": ..., "server_pid": ..., "pid": ...}`` once the server runs, then keeps the UI running
until a line arrives on stdin (or ``MAX_SECONDS`` pass), prints ``{"events": N}`` and exits after
stopping the server. Its own RSS is then the dashboard parent's RSS, free of the benchmark's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time


async def main(project_dir: str, settings: str, max_seconds: float) -> None:
    from asgi_dashboard.app import make_app
    from asgi_dashboard.config import DashboardConfig, discover

    folder, settings_module, source, _ = discover(project_dir, settings=settings)
    config = DashboardConfig(
        project_dir=folder, settings_module=settings_module, settings_source=source, port=0
    )
    app = make_app(config)
    async with app.run_test(size=(160, 48)):
        deadline = time.monotonic() + 30
        while app.runtime.state != "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        print(
            json.dumps({"url": app.runtime.url, "server_pid": app.runtime.pid, "pid": os.getpid()}),
            flush=True,
        )
        loop = asyncio.get_running_loop()
        stop = loop.create_future()

        def stop_on_stdin() -> None:
            if not stop.done():
                stop.set_result(None)

        loop.add_reader(sys.stdin.fileno(), stop_on_stdin)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop, max_seconds)
        loop.remove_reader(sys.stdin.fileno())
        print(json.dumps({"events": app.events_ingested}), flush=True)
        await app.stop_runtime()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
