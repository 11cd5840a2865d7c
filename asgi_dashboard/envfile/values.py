"""Reading a ``.env`` file: parsing it as python-dotenv does, and the values a load would set.

Standard library only (python-dotenv's parser is used when it is importable).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class EnvFile:
    """One ``.env`` file the project loads (or ``--env-file`` names)."""

    path: Path
    #: Where the load was found: "--env-file", "manage.py: load_dotenv()", ...
    origin: str
    #: True when the call passes ``override=True`` (``overwrite=True``): the file wins.
    override: bool = False
    #: ``${VAR}`` expansion (python-dotenv does it by default, django-environ does not).
    interpolate: bool = True

    def label(self) -> str:
        return f"{self.path} ({self.origin})"


# -- parsing ----------------------------------------------------------------------------------

_LINE_RE = re.compile(
    r"""^[^\S\r\n]*(?:export[^\S\r\n]+)?(?P<key>[A-Za-z_][\w.\-]*|'[^']+')[^\S\r\n]*"""
    r"""(?:(?P<eq>=)[^\S\r\n]*)?""",
    re.MULTILINE,
)
_DOUBLE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_ESCAPES = re.compile(r"\\[\\']")
#: python-dotenv's ``_posix_variable`` (dotenv/variables.py).
_VARIABLE_RE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


def _decode_double(match: re.Match[str]) -> str:
    return match.group(0).encode("ascii").decode("unicode-escape")


def parse_env_text(text: str) -> list[tuple[str, str | None]]:
    """Our own ``.env`` parser (used without python-dotenv): ``(key, value)`` in file order.

    ``KEY=VALUE``, ``export KEY=VALUE``, ``KEY = VALUE``; single quotes are literal (``\\'`` and
    ``\\\\`` decoded), double quotes decode ``\\n`` and friends and may span lines; an unquoted
    value ends at `` #`` (a comment); full-line comments and blank lines are skipped; a bare
    ``KEY`` has the value None (set nothing), as in python-dotenv.
    """
    out: list[tuple[str, str | None]] = []
    pos, n = 0, len(text)
    while pos < n:
        end = text.find("\n", pos)
        line_end = n if end < 0 else end
        line = text[pos:line_end]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            pos = line_end + 1
            continue
        match = _LINE_RE.match(text, pos, line_end)
        if match is None:
            pos = line_end + 1
            continue
        key = match.group("key").strip("'")
        if match.group("eq") is None:
            rest = text[match.end() : line_end].strip()
            if not rest or rest.startswith("#"):
                out.append((key, None))
            pos = line_end + 1
            continue
        vpos = match.end()
        quote = text[vpos : vpos + 1]
        if quote in ("'", '"'):
            # Find the closing quote (a backslash escapes the next character).
            i = vpos + 1
            while i < n and text[i] != quote:
                i += 2 if text[i] == "\\" else 1
            if i >= n:  # unterminated: take the rest of the line as it is
                out.append((key, text[vpos:line_end].strip()))
                pos = line_end + 1
                continue
            raw = text[vpos + 1 : i]
            if quote == '"':
                value = _DOUBLE_ESCAPES.sub(_decode_double, raw)
            else:
                value = _SINGLE_ESCAPES.sub(lambda m: m.group(0)[-1], raw)
            out.append((key, value))
            after = text.find("\n", i)
            pos = n if after < 0 else after + 1
            continue
        raw = text[vpos:line_end]
        comment = re.search(r"[^\S\r\n]+#", raw)
        if comment:
            raw = raw[: comment.start()]
        elif raw.startswith("#"):
            raw = ""
        out.append((key, raw.strip()))
        pos = line_end + 1
    return out


_dotenv_parse_stream: Any = None


def _python_dotenv_parser() -> Any:
    """python-dotenv's ``parse_stream``, or None when python-dotenv is not installed.

    Only its ``parser.py`` is loaded (as a private module): importing the ``dotenv`` package
    also imports ``logging``, ``tempfile`` and the rest of ``dotenv.main``, 20-100 ms measured
    on this path (before the first server process starts), and that module needs only ``re``
    and ``codecs``.
    """
    global _dotenv_parse_stream
    if _dotenv_parse_stream is None:
        import importlib.util

        parse_stream: Any = False
        try:
            spec = importlib.util.find_spec("dotenv")
            origin = spec.origin if spec is not None else None
            if origin:
                path = os.path.join(os.path.dirname(origin), "parser.py")
                own = importlib.util.spec_from_file_location("_asgi_dash_dotenv_parser", path)
                if own is not None and own.loader is not None:
                    module = importlib.util.module_from_spec(own)
                    own.loader.exec_module(module)
                    parse_stream = module.parse_stream
        except Exception:  # an unusual install: the package's own import path
            try:
                from dotenv.parser import parse_stream
            except ImportError:
                parse_stream = False
        _dotenv_parse_stream = parse_stream
    return _dotenv_parse_stream or None


def parse_env_file(path: Path) -> list[tuple[str, str | None]]:
    """The bindings of ``path``: python-dotenv's parser when installed, else ours."""
    parse_stream = _python_dotenv_parser()
    if parse_stream is None:
        return parse_env_text(path.read_text(encoding="utf-8", errors="replace"))
    with path.open(encoding="utf-8", errors="replace") as stream:
        return [(b.key, b.value) for b in parse_stream(stream) if b.key is not None]


def _interpolate(value: str, lookup: Mapping[str, str | None]) -> str:
    def one(match: re.Match[str]) -> str:
        found = lookup.get(match.group("name"))
        return found if found is not None else (match.group("default") or "")

    return _VARIABLE_RE.sub(one, value)


def env_file_values(
    files: tuple[EnvFile, ...] | list[EnvFile], base: Mapping[str, str]
) -> tuple[dict[str, str], tuple[Path, ...]]:
    """What loading ``files`` in order sets on top of ``base``: ``(values, files read)``.

    Only variables that the loads would set are returned (without ``override`` a variable
    already in ``base``, or set by an earlier file, is kept). Missing files are skipped, as the
    libraries skip them.
    """
    env: dict[str, str] = dict(base)
    added: dict[str, str] = {}
    read: list[Path] = []
    for f in files:
        try:
            bindings = parse_env_file(f.path)
        except OSError:
            continue
        read.append(f.path)
        new: dict[str, str | None] = {}
        for key, value in bindings:
            if value is not None and f.interpolate:
                # python-dotenv's resolve_variables(): without override the environment wins
                # over the file's own earlier values.
                lookup = {**env, **new} if f.override else {**new, **env}
                value = _interpolate(value, lookup)
            new[key] = value
        for key, value in new.items():
            if value is None or (key in env and not f.override):
                continue
            env[key] = added[key] = value
    return added, tuple(read)


def apply_env_files(
    files: tuple[EnvFile, ...], environ: MutableMapping[str, str] | None = None
) -> tuple[Path, ...]:
    """Load ``files`` into ``environ`` (default ``os.environ``), as the project's call would."""
    target: MutableMapping[str, str] = os.environ if environ is None else environ
    values, read = env_file_values(files, dict(target))
    target.update(values)
    return read


def describe(read: tuple[Path, ...]) -> str:
    """The start-up line's text for the files read: comma-separated paths."""
    return ", ".join(str(p) for p in read)
