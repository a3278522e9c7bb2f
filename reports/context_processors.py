from django.http import HttpRequest

from reports.rules import may_view_reports


def reports_link(request: HttpRequest) -> dict[str, bool]:
    """Whether the menu offers the reports: the pages' own rule."""
    return {"can_report": may_view_reports(getattr(request, "staff", None))}
