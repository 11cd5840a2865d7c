"""Benchmarks of asgi-dash against plain Uvicorn: they print figures, they are not tests.

Run ``python -m bench --quick`` (smoke, < 2 min) or ``python -m bench`` (full, < 15 min) from the
repository root; see bench/README.md.
"""
