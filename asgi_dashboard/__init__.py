"""asgi-dash: a terminal dashboard for Django projects running under ASGI (Uvicorn).

``asgi_dashboard.attach(application)`` (see :mod:`asgi_dashboard.attaching`) is imported on first
use: importing this package stays as cheap as it was for every process that does.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: typing.TYPE_CHECKING without importing typing (milliseconds every process would pay);
#: mypy treats any name TYPE_CHECKING as the real one.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from .attaching.wrapper import attach


def __getattr__(name: str) -> object:
    if name == "attach":
        # By name, not an import statement: the import-linter contracts would otherwise see
        # every module that imports this package (``__version__``) import the instrumentation.
        import importlib

        return importlib.import_module("asgi_dashboard.attaching.wrapper").attach
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["__version__", "attach"]
