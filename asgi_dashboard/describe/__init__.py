"""What each event says, in words: the one place that words events for people.

:func:`describe` returns a :class:`Description` with the two forms the views show:

* ``line``: the headless printer's text (``asgi-dash --headless``): one line per event, plus
  indented detail lines for an error; complete and greppable (durations as "12.3 ms", the
  settings module, the versions ...). None for an event not worth a line (loop-lag samples).
* ``entry``: the console panel's entry (:mod:`asgi_dashboard.widgets.console`): a tag for the
  panel's left column ("SERVER", a log level ...) and the text after it, as segments each with a
  :data:`Role` the console maps to its palette's colours; tracebacks are kept there (the panel
  is where one reads them). None for events the console does not show (requests, frames ...).

The two forms word some events differently (the console's tag column says "SERVER" where the line
says "server ..."; the console shows a traceback the line leaves to ``--json``): both wordings
are pinned (headless tests, console snapshots), and they are written side by side here so adding
an event type means writing one describer. Pure: no Textual, no Rich.
"""

from __future__ import annotations

# The describer modules register themselves with base on import.
from . import diagnostics, processes, server, traffic
from .base import Description, Entry, Role, Segment, describe, in_console, level_role
from .server import format_location
from .traffic import CUT_SHORT, format_request

__all__ = [
    "CUT_SHORT",
    "Description",
    "Entry",
    "Role",
    "Segment",
    "describe",
    "diagnostics",
    "format_location",
    "format_request",
    "in_console",
    "level_role",
    "processes",
    "server",
    "traffic",
]
