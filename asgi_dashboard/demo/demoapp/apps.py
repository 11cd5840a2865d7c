"""App configuration for the demo app."""

from django.apps import AppConfig


class DemoappConfig(AppConfig):
    """The demo app: views, consumers and the small shop catalogue they read."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demoapp"
    verbose_name = "asgi-dash demo"
