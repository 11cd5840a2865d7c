"""Open the code behind a request, an error or a blocked-loop report in the user's editor.

Pure: this module builds the command (and finds a view's source by reading files); the app
runs it with the terminal handed over (``App.suspend()``). No Textual, no Django: a view's
file and line come from the dotted path the server reported, read as text.

Which editor: ``$VISUAL``, then ``$EDITOR`` (split like a shell would: ``EDITOR="code -w"``
works), else the first of :data:`FALLBACKS` on ``PATH``. How the line is passed depends on the
editor's name: ``+LINE file`` (vi, vim, nvim, nano, emacs, micro, kak, joe, ne, mcedit ... the
usual convention and the default for unknown editors), ``--goto file:line`` (VS Code and its
forks), ``file:line`` (Sublime Text, Zed, Helix).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .events import Event, FrameInfo, LoopBlocked, RequestFinished, ServerFailed

#: Tried in order when neither VISUAL nor EDITOR is set (decision: nano first, it is the
#: editor a newcomer can leave; vi is everywhere).
FALLBACKS = ("sensible-editor", "nano", "vim", "vi")
GOTO_EDITORS = frozenset({"code", "code-insiders", "codium", "cursor", "windsurf"})
COLON_EDITORS = frozenset({"subl", "sublime_text", "zed", "hx", "helix"})


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file: absolute or project-relative path, 1-based line."""

    path: str
    line: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class EditorCommand:
    """The argv to run and where the editor came from (``VISUAL``, ``EDITOR`` or ``PATH``)."""

    argv: tuple[str, ...]
    source: str


class NoEditor(Exception):
    """Neither VISUAL nor EDITOR is set and no fallback editor is on PATH."""


def editor_command(
    location: Location,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] | None = None,
) -> EditorCommand:
    """The command that opens ``location`` (see the module docstring for the rules)."""
    env = os.environ if environ is None else environ
    for var in ("VISUAL", "EDITOR"):
        words = shlex.split(env.get(var, "").strip())
        if words:
            return EditorCommand(with_location(words, location), var)
    if which is None:
        import shutil

        which = shutil.which
    for name in FALLBACKS:
        found = which(name)
        if found:
            return EditorCommand(with_location([found], location), "PATH")
    raise NoEditor(
        "No editor: set $VISUAL or $EDITOR (e.g. export EDITOR=nano); "
        f"none of {', '.join(FALLBACKS)} is on PATH"
    )


def with_location(words: list[str], location: Location) -> tuple[str, ...]:
    """``words`` (the editor and its options) followed by the file and line in its syntax."""
    name = Path(words[0]).name.lower().removesuffix(".exe")
    line = max(1, location.line)
    if name in GOTO_EDITORS:
        return (*words, "--goto", f"{location.path}:{line}")
    if name in COLON_EDITORS:
        return (*words, f"{location.path}:{line}")
    return (*words, f"+{line}", location.path)


# -- where: from an event ---------------------------------------------------------------------


def frame_location(frame: FrameInfo | None) -> Location | None:
    if frame is None or not frame.filename or frame.filename.startswith("<"):
        return None
    return Location(frame.filename, frame.lineno)


def event_location(event: Event | object, roots: Iterable[Path] = ()) -> Location | None:
    """Where to open for an event: its error's project frame, else its view's definition."""
    if isinstance(event, LoopBlocked):
        return frame_location(event.frame)
    if isinstance(event, ServerFailed):
        return frame_location(event.error.frame if event.error else None)
    if isinstance(event, RequestFinished):
        if event.error is not None:
            found = frame_location(event.error.frame)
            if found is not None:
                return found
        if event.view:
            return view_location(event.view, roots)
    return None


# -- where: a view's dotted path, read as text --------------------------------------------------


def view_location(dotted: str, roots: Iterable[Path]) -> Location | None:
    """The file and line defining ``dotted`` (``pkg.mod.func`` or ``pkg.mod.Class.method``).

    Tries each split of the path into a module (a ``.py`` file or package ``__init__.py``
    under one of ``roots``) and the names inside it, then finds ``def``/``class`` lines for
    those names in order, nested. Falls back to line 1 of the module when a name is not found
    (a view made by a factory). None when no module file matches (a view of an installed app).
    """
    parts = [p for p in dotted.split(" ", 1)[0].split(".") if p and p != "<locals>"]
    for root in roots:
        for cut in range(len(parts) - 1, 0, -1):
            base = Path(root, *parts[:cut])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    line = definition_line(candidate.read_text("utf-8", "replace"), parts[cut:])
                    return Location(str(candidate), line)
    return None


def definition_line(source: str, names: list[str]) -> int:
    """1-based line of the nested ``def``/``class`` ``names`` in ``source``, else 1."""
    lines = source.splitlines()
    start, found = 0, 1
    for name in names:
        pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b")
        for index in range(start, len(lines)):
            if pattern.match(lines[index]):
                start, found = index + 1, index + 1
                break
        else:
            return found
    return found
