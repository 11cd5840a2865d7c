"""mypy strict holds over the package, the tests and the benchmarks.

Runs ``python -m mypy`` in a fresh interpreter with the project's own configuration
(``[tool.mypy]`` in pyproject.toml: ``strict``, ``warn_unused_ignores``, ``no_implicit_reexport``,
and ``ignore_missing_imports`` only for the third-party packages that ship no types), so the test
checks exactly what a contributor's ``mypy`` run checks.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from tests.conftest import REPO

#: A cold run (no .mypy_cache) takes about a minute on a busy two-core machine; a warm one seconds.
MYPY_DEADLINE_S = 480


@pytest.mark.slow
@pytest.mark.timeout(MYPY_DEADLINE_S + 60)
def test_mypy_strict_passes_over_package_tests_and_bench() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "asgi_dashboard", "tests", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=MYPY_DEADLINE_S,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy exited {result.returncode}:\n{output}"
    assert "Success: no issues found" in result.stdout, output


def test_mypy_config_is_strict_without_global_escapes() -> None:
    """The strictness lives in pyproject.toml: no global ``ignore_missing_imports``, and the
    per-module escapes name third-party packages (or the demo project) explicitly."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert config["warn_unused_ignores"] is True
    assert config["no_implicit_reexport"] is True
    assert "ignore_missing_imports" not in config
    for override in config.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        assert all(
            m.endswith(".*") and not m.startswith(("asgi_dashboard", "tests")) for m in modules
        )
