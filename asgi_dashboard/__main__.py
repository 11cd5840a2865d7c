"""``python -m asgi_dashboard`` is ``asgi-dash``."""

from .cli import main

main()
