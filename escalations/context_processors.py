from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from staff.auth import second_factor_passed


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Whether this person sees the menu (reports.context_processors adds its entry)."""
    user: User | AnonymousUser | None = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show_menu": False}
    # No menu before the second factor: its pages would only send the person back.
    return {"show_menu": not settings.REQUIRE_SECOND_FACTOR or second_factor_passed(user)}
