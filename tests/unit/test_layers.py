"""The layers point one way: nothing below the UI imports Textual; the UI never imports Django.

Checked in fresh interpreters, so what another test imported cannot hide a violation.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


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
