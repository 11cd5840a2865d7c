"""Read a ``asgi-dash --headless --json`` capture: the events both subcommands work from."""

from __future__ import annotations

import json
from pathlib import Path

from ..events import DecodeError, Event, from_dict


def read_events(path: Path) -> list[Event]:
    """Every decodable event line of a ``--headless --json`` capture (others are skipped)."""
    out: list[Event] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            out.append(from_dict(json.loads(line)))
        except (ValueError, DecodeError):
            continue
    return out
