"""Which ``.env`` files a project loads: its ``manage.py`` and settings read as source.

Nothing is executed: the loader calls (python-dotenv, django-dotenv, django-environ) are found
in the syntax tree and their path arguments evaluated statically (see the package docstring).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath
from typing import Any

from .values import EnvFile

#: How many files (settings modules and what they import with ``from .x import *``) are read.
MAX_FILES = 12

# -- detection --------------------------------------------------------------------------------


_PATH_FUNCTIONS = ("abspath", "realpath", "normpath", "expanduser")


class _Unknown(Exception):
    """An expression this evaluator does not handle."""


def _walk_up(start: Path, name: str) -> Path | None:
    """python-dotenv's ``find_dotenv``: ``name`` in ``start`` or its nearest parent."""
    for folder in (start, *start.parents):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


class _Evaluator:
    """Evaluates the path expressions of one source file, with the names assigned before."""

    def __init__(self, file: Path, cwd: Path, environ: Mapping[str, str]) -> None:
        self.file = file
        self.cwd = cwd
        self.environ = environ
        self.names: dict[str, Any] = {"__file__": str(file)}

    def value(self, node: ast.AST) -> Any:
        match node:
            case ast.Constant(value=str() | int() as v):
                return v
            case ast.Name(id=name) if name in self.names:
                return self.names[name]
            case ast.JoinedStr(values=parts):
                return "".join(str(self.value(p)) for p in parts)
            case ast.FormattedValue(value=inner):
                return self.value(inner)
            case ast.BinOp(left=left, op=ast.Div(), right=right):
                return Path(self.value(left)) / self.value(right)
            case ast.BinOp(left=left, op=ast.Add(), right=right):
                lv, rv = self.value(left), self.value(right)
                if isinstance(lv, str) and isinstance(rv, str):
                    return lv + rv
            case ast.Attribute(value=inner, attr="parent"):
                return Path(self.value(inner)).parent
            case ast.Subscript(value=ast.Attribute(value=inner, attr="parents"), slice=index):
                return Path(self.value(inner)).parents[int(self.value(index))]
            case ast.Call():
                return self.call(node)
        raise _Unknown(ast.dump(node)[:80])

    def call(self, node: ast.Call) -> Any:
        name = _dotted(node.func)
        args = node.args
        last = name.rpartition(".")[2]
        if last in ("Path", "PurePath", "PosixPath") and not isinstance(node.func, ast.Call):
            return Path(*(self.value(a) for a in args)) if args else Path()
        if name in ("str", "os.fspath") or last in _PATH_FUNCTIONS:
            (arg,) = args
            value = self.value(arg)
            if last in ("abspath", "realpath"):
                return str(self._absolute(Path(value)))
            if last == "expanduser":
                return os.path.expanduser(str(value))
            return str(value) if name in ("str", "os.fspath") else os.path.normpath(str(value))
        if last == "dirname":
            return os.path.dirname(str(self.value(args[0])))
        if name in ("os.path.join", "path.join", "join"):
            return os.path.join(*(str(self.value(a)) for a in args))
        if name in ("os.getcwd", "getcwd", "Path.cwd", "pathlib.Path.cwd"):
            return str(self.cwd)
        if name in ("os.environ.get", "environ.get", "os.getenv", "getenv"):
            key = self.value(args[0])
            if key in self.environ:
                return self.environ[key]
            return self.value(args[1]) if len(args) > 1 else None
        if last == "find_dotenv":
            filename = self.value(args[0]) if args else _kw(node, "filename", self) or ".env"
            usecwd = _literal_kw(node, "usecwd", False)
            start = self.cwd if usecwd else self.file.parent
            # Not found (yet): the file it would find first, so that one created later is
            # loaded on the next reload, as the next ``manage.py`` run would.
            return str(_walk_up(start, str(filename)) or start / str(filename))
        if isinstance(node.func, ast.Attribute):
            base = self.value(node.func.value)
            method = node.func.attr
            if isinstance(base, PurePath) and method in ("resolve", "absolute"):
                return self._absolute(Path(base))
            if isinstance(base, PurePath) and method == "joinpath":
                return Path(base).joinpath(*(self.value(a) for a in args))
            if isinstance(base, PurePath) and method == "expanduser":
                return Path(base).expanduser()
        raise _Unknown(name)

    def _absolute(self, path: Path) -> Path:
        return path if path.is_absolute() else self.cwd / path

    def assign(self, stmt: ast.stmt) -> None:
        """Remember ``NAME = <path expression>`` (BASE_DIR and friends)."""
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            return
        if isinstance(target, ast.Name):
            try:
                self.names[target.id] = self.value(value)
            except (_Unknown, ValueError, TypeError, IndexError):
                self.names.pop(target.id, None)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _kw(node: ast.Call, name: str, ev: _Evaluator) -> Any:
    for keyword in node.keywords:
        if keyword.arg == name:
            return ev.value(keyword.value)
    return None


def _literal_kw(node: ast.Call, name: str, default: bool) -> bool:
    for keyword in node.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return bool(keyword.value.value)
    return default


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement in source order, nested bodies (functions, if, try, with) included."""
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(stmt, "handlers", None) or ():
            yield from _statements(handler.body)


def _expressions(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions a statement evaluates itself (not those of its nested statements)."""
    match stmt:
        case ast.Expr(value=v) | ast.Return(value=v) | ast.Assign(value=v) | ast.AugAssign(value=v):
            return [v] if v is not None else []
        case ast.AnnAssign(value=v):
            return [v] if v is not None else []
        case ast.If(test=t) | ast.While(test=t):
            return [t]
        case ast.With(items=items):
            return [item.context_expr for item in items]
    return []


#: Loader call (last name of the called function) -> (library, path argument keyword,
#: override keyword, default: "search" upwards or "beside" the calling file).
_LOADERS = {
    "load_dotenv": ("python-dotenv", "dotenv_path", "override", "search"),
    "read_dotenv": ("django-dotenv", "dotenv", "override", "beside"),
    "read_env": ("django-environ", "env_file", "overwrite", "beside"),
}


def _loads_in(
    source: Path, project_dir: Path, environ: Mapping[str, str], label: str
) -> tuple[list[EnvFile], list[str]]:
    """The env files ``source`` loads, and the modules it star-imports (to read next)."""
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], []
    # Most files load nothing and import nothing with "*": skip parsing them (~1-10 ms each).
    if not any(name in text for name in (*_LOADERS, "import *")):
        return [], []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return [], []
    ev = _Evaluator(source, project_dir, environ)
    found: list[EnvFile] = []
    imports: list[str] = []
    for stmt in _statements(tree.body):
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            imports.append("." * stmt.level + (stmt.module or ""))
        for expr in _expressions(stmt):
            for node in ast.walk(expr):
                if not isinstance(node, ast.Call):
                    continue
                last = _dotted(node.func).rpartition(".")[2]
                if last not in _LOADERS:
                    continue
                if (
                    last == "read_env"
                    and "Env" not in _dotted(node.func)
                    and not _dotted(node.func).startswith(("env.", "environ."))
                ):
                    continue
                if any(k.arg == "stream" for k in node.keywords):
                    continue  # a stream, not a file: nothing to find
                library, path_kw, override_kw, default = _LOADERS[last]
                path = _loader_path(node, ev, path_kw, default, source, project_dir)
                if path is None:
                    continue
                found.append(
                    EnvFile(
                        path=path,
                        origin=f"{label}: {library}",
                        override=_literal_kw(node, override_kw, False),
                        interpolate=library == "python-dotenv"
                        and _literal_kw(node, "interpolate", True),
                    )
                )
        ev.assign(stmt)
    return found, imports


def _loader_path(
    node: ast.Call, ev: _Evaluator, path_kw: str, default: str, source: Path, project_dir: Path
) -> Path | None:
    expr = node.args[0] if node.args else None
    for keyword in node.keywords:
        if keyword.arg == path_kw:
            expr = keyword.value
    if expr is None:
        if default == "search":
            return _walk_up(source.parent, ".env") or source.parent / ".env"
        return source.parent / ".env"
    try:
        value = ev.value(expr)
    except (_Unknown, ValueError, TypeError, IndexError):
        base = ev.names.get("BASE_DIR")
        return (Path(base) if base is not None else project_dir) / ".env"
    if value is None or value == "":
        return None  # e.g. find_dotenv() found nothing: the call loads nothing
    path = Path(value)
    return path if path.is_absolute() else project_dir / path


def _module_file(project_dir: Path, dotted: str) -> Path | None:
    base = project_dir.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _settings_files(project_dir: Path, settings_module: str) -> list[tuple[str, Path]]:
    """The package ``__init__`` files on the settings module's path, then the module itself."""
    parts = settings_module.split(".")
    files = []
    for i in range(1, len(parts)):
        init = project_dir.joinpath(*parts[:i], "__init__.py")
        if init.is_file():
            files.append((".".join(parts[:i]), init))
    module = _module_file(project_dir, settings_module)
    if module is not None:
        files.append((settings_module, module))
    return files


def detect(
    project_dir: Path, settings_module: str, environ: Mapping[str, str] | None = None
) -> tuple[EnvFile, ...]:
    """The ``.env`` files that ``manage.py`` and the settings load, in the order they load."""
    env = os.environ if environ is None else environ
    project_dir = project_dir.resolve()
    found: list[EnvFile] = []
    manage_py = project_dir / "manage.py"
    if manage_py.is_file():
        found += _loads_in(manage_py, project_dir, env, "manage.py")[0]
    queue = _settings_files(project_dir, settings_module)
    seen: set[Path] = set()
    while queue and len(seen) < MAX_FILES:
        module, path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        rel = os.path.relpath(path, project_dir)
        loads, imports = _loads_in(path, project_dir, env, rel)
        found += loads
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for name in imports:
            target = _resolve_relative(name, package)
            target_file = _module_file(project_dir, target) if target else None
            if target_file is not None:
                queue.insert(0, (target, target_file))
    unique: dict[Path, EnvFile] = {}
    for f in found:
        unique.setdefault(f.path, f)
    return tuple(unique.values())


def _resolve_relative(name: str, package: str) -> str:
    level = len(name) - len(name.lstrip("."))
    if not level:
        return name
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return ""
    base = parts[: len(parts) - (level - 1)]
    rest = name[level:]
    return ".".join([*base, rest] if rest else base)
