"""Turn exceptions into :class:`~asgi_dashboard.events.ExceptionInfo`: the project's own frame
and, for the async pitfalls Django developers hit most, a concrete fix."""

from __future__ import annotations

import linecache
import os
import site
import sysconfig
import traceback
from types import FrameType, TracebackType

from ..events import ExceptionInfo, FrameInfo

_LIBRARY_ROOTS: tuple[str, ...] = tuple(
    {
        os.path.realpath(p)
        for p in [
            *site.getsitepackages(),
            site.getusersitepackages(),
            sysconfig.get_paths()["stdlib"],
            sysconfig.get_paths()["platstdlib"],
        ]
        if p
    }
)
_OWN_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
#: The bundled demo ships inside the package (in site-packages once installed), yet its files
#: are the project's own code when it is the project being served.
DEMO_ROOT = os.path.join(_OWN_ROOT, "demo")


def _ours(filename: str) -> bool:
    return filename.startswith(_OWN_ROOT + os.sep) and not filename.startswith(DEMO_ROOT + os.sep)


def is_project_file(filename: str, project_dir: str | None = None) -> bool:
    """Whether a frame's file is the user's code (not the stdlib, site-packages or us)."""
    if not filename or filename.startswith("<"):
        return False
    real = os.path.realpath(filename)
    if real.startswith(DEMO_ROOT + os.sep):
        return project_dir is None or real.startswith(os.path.realpath(project_dir) + os.sep)
    if _ours(real):
        return False
    if project_dir is not None:
        return real.startswith(os.path.realpath(project_dir) + os.sep)
    return not any(real.startswith(root + os.sep) for root in _LIBRARY_ROOTS)


def frame_info(filename: str, lineno: int, function: str) -> FrameInfo:
    line = linecache.getline(filename, lineno).strip()
    return FrameInfo(filename=filename, lineno=lineno, function=function, line=line)


def innermost_project_frame_tb(
    tb: TracebackType | None, project_dir: str | None = None
) -> FrameInfo | None:
    """The deepest traceback entry in the project's own code."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if is_project_file(code.co_filename, project_dir):
            found = (code.co_filename, tb.tb_lineno, code.co_name)
        tb = tb.tb_next
    return frame_info(*found) if found else None


def innermost_project_frame_stack(
    frame: FrameType | None, project_dir: str | None = None
) -> FrameInfo | None:
    """The deepest frame of a live stack (innermost first) in the project's own code."""
    while frame is not None:
        code = frame.f_code
        if is_project_file(code.co_filename, project_dir):
            return frame_info(code.co_filename, frame.f_lineno, code.co_name)
        frame = frame.f_back
    return None


SYNC_ONLY_HINT = (
    "Django's ORM is synchronous: called from async code it raises SynchronousOnlyOperation. "
    "Use the async ORM (await Model.objects.aget(...), .acount(), .afirst(), `async for obj in "
    "qs`), or wrap the sync code: await sync_to_async(fn)() (asgiref.sync; "
    "channels.db.database_sync_to_async in consumers). Do not set "
    "DJANGO_ALLOW_ASYNC_UNSAFE to silence it."
)


def hint_for(exc: BaseException) -> str | None:
    """A concrete suggestion for well-known async pitfalls, else None."""
    name = type(exc).__name__
    if name == "SynchronousOnlyOperation":
        return SYNC_ONLY_HINT
    if isinstance(exc, RuntimeError) and "You cannot use AsyncToSync in the same thread" in str(
        exc
    ):
        return (
            "async_to_sync was called from a thread that already runs an event loop: "
            "await the coroutine directly instead."
        )
    if isinstance(exc, TypeError) and "coroutine" in str(exc) and "await" in str(exc):
        return "An async function was called without await somewhere in this call chain."
    return None


def _drop_own_frames(te: traceback.TracebackException) -> None:
    seen: set[int] = set()
    node: traceback.TracebackException | None = te
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        kept = [f for f in node.stack if not _ours(f.filename)]
        node.stack = traceback.StackSummary.from_list(kept)
        node = node.__cause__ or node.__context__


def format_traceback(exc: BaseException, *, limit: int = 40) -> str:
    """The traceback as Python prints it, minus asgi-dash's own wrapper frames (the hooks around
    the view are ours, not the user's, and would only add noise), innermost ``limit`` frames."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, limit=-limit)
    _drop_own_frames(te)
    return "".join(te.format())


def syntax_error_frame(exc: SyntaxError) -> FrameInfo | None:
    """Where a SyntaxError is: the file and line that hold it, with the caret's column.

    Its traceback ends in the module that *imported* the broken file (``urls.py: from . import
    views``): the broken file has no frame, only ``filename``/``lineno``/``offset``/``text``,
    which is what Python's own traceback prints with a caret.
    """
    if not exc.filename or not exc.lineno or exc.filename.startswith("<"):
        return None
    text = exc.text if exc.text is not None else linecache.getline(exc.filename, exc.lineno)
    text = text.rstrip("\r\n")
    line = text.strip()
    offset = None
    if exc.offset is not None and exc.offset > 0 and line:
        # exc.offset is 1-based in the unstripped text; the frame keeps the stripped line.
        indent = len(text) - len(text.lstrip())
        offset = min(max(1, exc.offset - indent), len(line) + 1)
    return FrameInfo(
        filename=exc.filename, lineno=exc.lineno, function="<module>", line=line, offset=offset
    )


def caret_line(frame: FrameInfo) -> str | None:
    """``"    ^"`` under ``frame.line`` when the frame has a column (a SyntaxError), else None."""
    if frame.offset is None:
        return None
    return " " * (frame.offset - 1) + "^"


def exception_info(
    exc: BaseException, project_dir: str | None = None, *, limit: int = 40
) -> ExceptionInfo:
    tb_text = format_traceback(exc, limit=limit)
    frame = syntax_error_frame(exc) if isinstance(exc, SyntaxError) else None
    return ExceptionInfo(
        type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
        message=str(exc),
        traceback=tb_text,
        frame=frame or innermost_project_frame_tb(exc.__traceback__, project_dir),
        hint=hint_for(exc),
    )
