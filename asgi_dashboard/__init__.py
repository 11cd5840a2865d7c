"""asgi-dash: a terminal dashboard for Django projects running under ASGI (Uvicorn)."""

__version__ = "0.1.0"
