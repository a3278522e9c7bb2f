"""Idle sessions end after SESSION_COOKIE_AGE without a write on every request.

Django restarts a database session's expiry only when the session is saved. Saving it
on every request (SESSION_SAVE_EVERY_REQUEST) costs an UPDATE per page, image-less API
call and poll; here a request restarts the idle limit only once SESSION_REFRESH_SECONDS
have passed since the last restart. A session therefore ends between
SESSION_COOKIE_AGE - SESSION_REFRESH_SECONDS and SESSION_COOKIE_AGE after its last
request: 29 to 30 minutes by default. "Stay signed in" (config.views.session_extend)
always restarts it in full.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# When the idle limit was last restarted (seconds since the epoch).
REFRESHED_KEY = "_idle_refreshed_at"


class IdleSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        due = now - session.get(REFRESHED_KEY, 0) >= settings.SESSION_REFRESH_SECONDS
        if due or session.modified:
            # Marks the session modified: SessionMiddleware saves it with a new expiry.
            session[REFRESHED_KEY] = now
        return response
