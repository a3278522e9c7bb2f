from typing import Any

from django.http import HttpRequest

from escalations.selectors import staff_for
from notifications.selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count shown in the header on every page."""
    staff = staff_for(request.user) if hasattr(request, "user") else None
    return {"unread_notifications": unread_count(staff) if staff else 0}
