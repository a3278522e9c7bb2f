from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """QA reporting, read-only: the dashboard, the tracker and its CSV, the quarterly
    report. It reads the escalations' tables through their querysets; its one model keeps
    the rendered figures of each period until the data changes (reports/figures.py)."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
