from typing import Any

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Whether this person sees the menu (reports.context_processors adds its entry)."""
    user = getattr(request, "user", None)
    # No menu before the second factor: its pages would only send the person back.
    passed = bool(user and user.is_authenticated) and (
        not settings.REQUIRE_SECOND_FACTOR or user.is_verified()
    )
    return {"show_menu": passed}
