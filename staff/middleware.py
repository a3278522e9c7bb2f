"""No case data before the second factor (docs/architecture.md §5, §8)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from staff.auth import second_factor_passed
from staff.selectors import staff_of

OPEN_PREFIXES = ("/accounts/", "/static/", "/health/", "/accessibility/")


class SecondFactorRequiredMiddleware:
    """A signed-in user who has not passed the second factor sees only the sign-in pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.REQUIRE_SECOND_FACTOR
            and user.is_authenticated
            and not second_factor_passed(user)
            and not request.path.startswith(OPEN_PREFIXES)
        ):
            return redirect(f"{reverse('second_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


class StaffMiddleware:
    """Sets `request.staff`: the signed-in user's active staff record, or None.

    Read once per request here, so every view, context processor and template of the
    request asks the same record (`staff.decorators.staff_required` refuses a request
    without one).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.staff = staff_of(request.user)  # type: ignore[attr-defined]
        return self.get_response(request)
