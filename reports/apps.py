from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """QA reporting, read-only: the dashboard, the tracker and its CSV, the quarterly
    report. No models: it reads the escalations' tables through their querysets."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
