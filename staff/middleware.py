"""No case data before the second factor (DESIGN §8)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from staff.auth import second_factor_passed

OPEN_PREFIXES = ("/accounts/", "/static/", "/health/")


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
