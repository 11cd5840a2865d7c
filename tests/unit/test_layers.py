"""The layers point one way: nothing below the UI imports Textual; the UI never imports Django.

Two checks. The import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``) read every
import statement, the lazy ones inside functions included, so an import that runs only on some
path (a key press, ``--in-process``) is held to the layers too. The tests below them import the
modules in fresh interpreters, so what another test imported cannot hide a violation, and see
what is really loaded at import time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import asgi_dashboard

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(asgi_dashboard.__file__).parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
#: What the issue asks the contracts to state; each must stay declared.
REQUIRED = {"layers", "core", "instrument", "no-textual-below-ui", "ui-no-django", "acyclic"}


def test_the_contracts_are_declared() -> None:
    declared = {c["id"] for c in CONTRACTS["contracts"]}
    assert declared >= REQUIRED


def test_import_linter_contracts_are_kept() -> None:
    """``lint-imports`` over the whole package (bounded; no cache written into the tree)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS['contracts'])} kept, 0 broken." in done.stdout


def test_every_module_has_a_place_in_the_contracts() -> None:
    """A new top-level module or package is named in a contract, so its layer is stated."""
    named = set()
    for contract in CONTRACTS["contracts"]:
        for key in ("layers", "source_modules", "forbidden_modules"):
            for entry in contract.get(key, ()):
                for part in entry.replace(":", "|").split("|"):
                    named.add(part.strip().removeprefix("asgi_dashboard.").split(".")[0])
    top_level = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__"))
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert top_level - named == set(), "add these to [tool.importlinter] in pyproject.toml"


def imported_after(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(' '.join(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return set(out.stdout.split())


SERVER_SIDE = [
    "asgi_dashboard.events",
    "asgi_dashboard.config",
    "asgi_dashboard.runtime.child",
    "asgi_dashboard.runtime.supervisor",
    "asgi_dashboard.runtime.inprocess",
    "asgi_dashboard.instrument",
    "asgi_dashboard.headless",
]


@pytest.mark.parametrize("module", SERVER_SIDE)
def test_server_side_never_imports_textual(module: str) -> None:
    assert "textual" not in imported_after([module])


def test_event_schema_imports_neither_django_nor_textual() -> None:
    loaded = imported_after(["asgi_dashboard.events"])
    assert not {"django", "textual", "uvicorn"} & loaded


def test_ui_never_imports_django() -> None:
    loaded = imported_after(["asgi_dashboard.app"])
    assert "textual" in loaded
    assert "django" not in loaded
