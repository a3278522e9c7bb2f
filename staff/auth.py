"""Who is signed in, typed: the request's user once a guard has let them through.

Django types `request.user` as "a user or anonymous" everywhere; behind `login_required`
or the admin site only the first is possible, and these say so once rather than at each
use.
"""

from __future__ import annotations

from typing import Protocol, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    """The request a `login_required` view receives (django-stubs' documented pattern)."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The request's user where a guard (the admin site, `login_required`) already
    refused anyone not signed in; refused again here rather than trusted blindly."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class _SecondFactorUser(Protocol):
    def is_verified(self) -> bool: ...


def second_factor_passed(user: User | AnonymousUser) -> bool:
    """Whether this person passed the second factor in this session.

    `is_verified()` is put on every request's user by the OTP middleware
    (`staff.sso.OTPMiddleware`, which also counts the provider's MFA), not declared on the
    model, hence the cast.
    """
    return cast(_SecondFactorUser, user).is_verified()
