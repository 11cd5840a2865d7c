"""The form of a description (segments with roles, the console entry, the headless line) and
the registry of describers: :func:`describe` looks an event's describer up by its type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ..events import Event, ExceptionInfo

Role = Literal[
    "plain",
    "muted",
    "strong",
    "server",
    "accent",
    "warning",
    "warning-strong",
    "error",
    "error-strong",
    "ansi",
]


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text with one role."""

    text: str
    role: Role = "plain"


@dataclass(frozen=True, slots=True)
class Entry:
    """The console's form: the left column's tag, then the text."""

    tag: Segment
    parts: tuple[Segment, ...]

    @property
    def plain(self) -> str:
        """The text without roles, as the console shows it after the tag."""
        return "".join(part.text for part in self.parts)


@dataclass(frozen=True, slots=True)
class Description:
    """What one event says: the headless line and the console entry (either may be None)."""

    line: str | None = None
    entry: Entry | None = None


E = TypeVar("E", bound=Event)
_DESCRIBERS: dict[type[Event], Callable[[Any], Description]] = {}
_IN_CONSOLE: set[type[Event]] = set()


def describes(
    cls: type[E], *, console: bool = False
) -> Callable[[Callable[[E], Description]], Callable[[E], Description]]:
    """Register the describer of ``cls``; ``console``: its entry can be non-None."""

    def register(describer: Callable[[E], Description]) -> Callable[[E], Description]:
        _DESCRIBERS[cls] = describer
        if console:
            _IN_CONSOLE.add(cls)
        return describer

    return register


def describe(event: Event) -> Description:
    """The words for ``event`` (an event type without a describer: its wire name, no entry)."""
    describer = _DESCRIBERS.get(type(event))
    if describer is None:
        return Description(line=event.name)
    return describer(event)


def in_console(event: Event) -> bool:
    """Whether the console can show ``event``: a type check, so the console skips requests and
    frames (most events) without wording them."""
    return type(event) in _IN_CONSOLE


def level_role(level: str) -> Role:
    """The role of a log or check level's tag (an unknown level is shown strong)."""
    return _LEVEL_ROLES.get(level.lower(), "strong")


_LEVEL_ROLES: dict[str, Role] = {
    "debug": "muted",
    "info": "strong",
    "warning": "warning",
    "error": "error",
    "critical": "error-strong",
}


def entry(tag: str, role: Role, *parts: Segment | str) -> Entry:
    return Entry(
        Segment(tag, role), tuple(p if isinstance(p, Segment) else Segment(p) for p in parts)
    )


def error_line(error: ExceptionInfo | None) -> str:
    """The indented line under a headless line that names an error ("" for none)."""
    return "" if error is None else f"\n    ! {error.type}: {error.message}"
