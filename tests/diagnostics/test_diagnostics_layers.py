"""The diagnostics core imports neither Textual nor Django: the UI and the headless subcommands
may use it; the audit's Django half (diagnostics/audit_server.py) runs in the server process."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "asgi_dashboard.diagnostics.audit",
    "asgi_dashboard.diagnostics.probe",
    "asgi_dashboard.diagnostics.probe_text",
    "asgi_dashboard.diagnostics.replay",
    "asgi_dashboard.diagnostics.probe_command",
    "asgi_dashboard.diagnostics.capture",
    "asgi_dashboard.diagnostics.options",
    "asgi_dashboard.diagnostics.replay_command",
]


def test_diagnostics_core_imports_neither_textual_nor_django() -> None:
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE)
    code += "print(sorted({'textual', 'django'} & {n.split('.')[0] for n in sys.modules}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
