from typing import Any

from django.conf import settings
from django.http import HttpRequest

from escalations.selectors import staff_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which menu entries this person sees."""
    user = getattr(request, "user", None)
    staff = staff_for(user) if user is not None else None
    # No menu before the second factor: its pages would only send the person back.
    passed = bool(user and user.is_authenticated) and (
        not settings.REQUIRE_SECOND_FACTOR or user.is_verified()
    )
    return {
        "show_menu": passed,
        "can_report": bool(staff and (staff.is_quality_assurance or staff.user.is_staff)),
    }
