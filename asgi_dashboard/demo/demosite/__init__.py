"""Project package of the asgi-dash demo: settings, URLconf, ASGI entry point."""
