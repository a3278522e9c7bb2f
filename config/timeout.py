"""Idle sessions end (docs/architecture.md §5, §8) without losing what was typed (WCAG 2.2.1 and 3.3.7).

Two halves. In the browser, static/app/timeout.js warns before the idle limit and lets
the person stay signed in (session_extend in config/views.py). On the server, a form
posted after the session ended is kept, and shown again filled in once its author has
signed in again: this module. Django admin has both too (templates/admin/base_site.html).

Where it is kept: in the new, session-less request's own (database) session, which
Django's login() carries over into the signed-in session. Whose it is: a signed cookie
set on every signed-in response names the user; a kept form is shown only to that user
and is dropped as soon as anyone else signs in in that browser, so nothing of a child's
case reaches another person. It lives no longer than that session (the idle limit) and
at most KEEP_SECONDS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse

SESSION_KEY = "kept_form"
USER_COOKIE = "signed_in_as"
USER_COOKIE_SALT = "config.timeout.signed_in_as"
# A form is kept for its author's next sign-in the same working day, never longer.
KEEP_SECONDS = 8 * 60 * 60
# Never kept: the token is the old page's, and a signature of who would be told must be
# seen again before anything is sent.
NOT_KEPT = frozenset({"csrfmiddlewaretoken", "recipients_seen"})
# The warning comes this long before the idle limit (the GOV.UK and HMRC pattern), or
# half way through a limit too short for that.
WARNING_SECONDS = 2 * 60


def warning_lead_seconds(idle_seconds: int) -> int:
    """How long before the idle limit the warning appears."""
    return min(WARNING_SECONDS, idle_seconds // 2)


def _signed_in_user_id(request: HttpRequest) -> int | None:
    """The user this browser was last signed in as, if the cookie is ours and recent."""
    try:
        value = request.get_signed_cookie(USER_COOKIE, salt=USER_COOKIE_SALT, max_age=KEEP_SECONDS)
    except (KeyError, signing.BadSignature):
        return None
    return int(value) if value and value.isdigit() else None


def _sign_in_paths() -> set[str]:
    """Where a request whose session has ended is sent to sign in again.

    Two places: the app's own views send it to settings.LOGIN_URL, but Django admin's
    admin_view() sends it to the admin site's own login (admin:login), whatever LOGIN_URL
    says. Without the second, a change form posted in admin after the idle limit was lost."""
    return {resolve_url(settings.LOGIN_URL), reverse("admin:login")}


def _sent_to_sign_in(response: HttpResponse) -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    return bool(location) and urlsplit(location).path in _sign_in_paths()


def kept_form_save(*, request: HttpRequest, user_id: int) -> None:
    """Keep what was posted (its fields, not its files) for this user and this page."""
    data = {name: request.POST.getlist(name) for name in request.POST if name not in NOT_KEPT}
    request.session[SESSION_KEY] = {
        "user": user_id,
        "path": request.path,
        "data": data,
        "files": bool(request.FILES),
        "at": int(time.time()),
    }


def kept_form_for(request: HttpRequest) -> dict[str, Any] | None:
    """The form this signed-in user posted to this page before signing in again, if any.

    A form kept for someone else is dropped here: it was never theirs to see."""
    kept = request.session.get(SESSION_KEY)
    if not kept:
        return None
    if kept.get("user") != request.user.pk or time.time() - kept.get("at", 0) > KEEP_SECONDS:
        del request.session[SESSION_KEY]
        return None
    return kept if kept.get("path") == request.path else None


class KeepExpiredFormMiddleware:
    """Keeps a form posted after the session ended; shows it again after signing in.

    After the authentication, second-factor and message middleware, so `request.user`
    is known and a page only counts as shown once the person may really see it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        kept = kept_form_for(request) if signed_in and request.method == "GET" else None
        # Read by base.html (its data for static/app/timeout.js, and the notice).
        request.kept_form = kept  # type: ignore[attr-defined]
        response = self.get_response(request)
        if kept is not None and response.status_code == 200:
            request.session.pop(SESSION_KEY, None)
        if not signed_in and request.method == "POST" and _sent_to_sign_in(response):
            user_id = _signed_in_user_id(request)
            if user_id is not None:
                kept_form_save(request=request, user_id=user_id)
        if request.user.is_authenticated:
            response.set_signed_cookie(
                USER_COOKIE,
                str(request.user.pk),
                salt=USER_COOKIE_SALT,
                max_age=KEEP_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        elif signed_in:
            # Signed out on purpose: nothing posted from this browser is theirs any more.
            response.delete_cookie(USER_COOKIE, samesite="Lax")
        return response


def session_timeout(request: HttpRequest) -> dict[str, Any]:
    """For the warning in base.html: the idle limit and how long before it to warn."""
    idle = settings.SESSION_COOKIE_AGE
    return {"session_idle_seconds": idle, "session_warning_seconds": warning_lead_seconds(idle)}
