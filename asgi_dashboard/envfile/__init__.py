"""The project's ``.env`` file: which one ``manage.py`` would load, and what it sets.

A project whose ``manage.py`` (or settings) calls python-dotenv's ``load_dotenv()``,
django-dotenv's ``dotenv.read_dotenv()`` or django-environ's ``environ.Env.read_env()`` runs with
the variables of a ``.env`` file. A server started without that file runs a different project
(another database, another ``DEBUG``), silently. This module finds those calls by reading the
source as text (:func:`detect`: ``manage.py`` is never executed, as in :mod:`.config`) and
computes the variables the same call would set (:func:`env_file_values`):

* **Which file.** The path the call names, evaluated statically when it is built from string
  literals, ``__file__``, ``BASE_DIR``-style assignments, ``pathlib`` (``/``, ``.parent``,
  ``.resolve()``), ``os.path`` (``join``, ``dirname``, ``abspath``), ``os.environ.get`` /
  ``os.getenv`` and ``find_dotenv()``. With no path, each library's own default:
  ``load_dotenv()`` searches upwards from the calling file's folder (``find_dotenv``),
  ``read_dotenv()`` and ``Env.read_env()`` use ``.env`` beside the calling file. A path that
  cannot be evaluated falls back to ``BASE_DIR/.env``, else ``.env`` beside ``manage.py``.
* **What it sets.** Variables already in the environment win (python-dotenv's default
  ``override=False``, django-environ's ``overwrite=False``); a call that passes
  ``override=True`` / ``overwrite=True`` literally is honoured. ``${VAR}`` / ``${VAR:-default}``
  are expanded for python-dotenv (its ``interpolate=True`` default), with the environment
  winning over earlier file values as python-dotenv does. Parsing uses python-dotenv's own parser
  when it is importable; otherwise :func:`parse_env_text`, which handles the common syntax
  (``KEY=VALUE``, quotes, ``export``, comments). asgi-dash does not require python-dotenv.

The values are computed, not loaded into this process: the runtime adds them to the server
process's environment (:func:`.runtime.launch.child_env`) each time one starts, so an edited
``.env`` takes effect on the next reload. Standard library only: imported on the CLI's early path.
"""

from __future__ import annotations

from .detect import detect
from .values import (
    EnvFile,
    apply_env_files,
    describe,
    env_file_values,
    parse_env_file,
    parse_env_text,
)

__all__ = [
    "EnvFile",
    "apply_env_files",
    "describe",
    "detect",
    "env_file_values",
    "parse_env_file",
    "parse_env_text",
]
