from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demonstration and load data, and the reports benchmark: commands for developers
    and trainers, never run against live data. No models."""

    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"
