from typing import Any

from django.http import HttpRequest

from escalations.selectors import staff_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which menu entries this person sees."""
    staff = staff_for(request.user) if hasattr(request, "user") else None
    return {
        "can_report": bool(staff and (staff.is_quality_assurance or staff.user.is_staff)),
    }
