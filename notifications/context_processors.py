from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from notifications.selectors import DeliveryProblems, delivery_problems, unread_count
from staff.admin_scope import admin_scope


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count shown in the header on every page, and for administrators the
    e-mail delivery problems in their scope (templates/notifications/_admin_banner.html,
    on the app's pages and the admin index)."""
    staff = getattr(request, "staff", None)
    return {
        "unread_notifications": unread_count(staff) if staff else 0,
        "delivery_problems": _delivery_problems(request),
    }


def _delivery_problems(request: HttpRequest) -> DeliveryProblems | None:
    user = getattr(request, "user", None)
    if user is None or not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    # The admin's own scoping rule: a superuser sees every authority, an authority
    # administrator only theirs (none without a staff record).
    scope = admin_scope(request)
    if not scope.unrestricted and scope.authority_id is None:
        return None
    problems = delivery_problems(
        authority_id=None if scope.unrestricted else scope.authority_id, now=timezone.now()
    )
    return problems or None
