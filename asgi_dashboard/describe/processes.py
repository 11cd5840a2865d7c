"""Words for attached processes (``asgi-dash collect``): who connected, who left."""

from __future__ import annotations

from ..events import ProcessAttached, ProcessDetached
from .base import Description, Segment, describes, entry


@describes(ProcessAttached, console=True)
def _attached(e: ProcessAttached) -> Description:
    again = f"  (reconnect {e.reconnects})" if e.reconnects else ""
    django = f"  Django {e.django}" if e.django else ""
    line = (
        f"process attached: worker {e.worker}  pid {e.pid}  {e.server}  app {e.app}"
        f"  settings {e.settings_module or '-'}{django}{again}"
    )
    shown = f"worker {e.worker} attached: pid {e.pid} ({e.server}){again}"
    return Description(line, entry("ATTACH", "server", shown, Segment(f"  {e.app}", "muted")))


@describes(ProcessDetached, console=True)
def _detached(e: ProcessDetached) -> Description:
    why = {
        "closed": "it closed the connection",
        "collector-stopped": "the collector stopped",
        "bad-stream": "its stream was not asgi-dash events",
    }[e.reason]
    line = f"process detached: worker {e.worker}  pid {e.pid}  {why}  ({e.events} events)"
    return Description(
        line, entry("ATTACH", "muted", f"worker {e.worker} (pid {e.pid}) left: {why}")
    )
