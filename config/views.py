"""Pages of the site itself rather than of one app: the accessibility statement, and the
endpoint the time-out warning calls to keep a session going."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe


@require_POST
def session_extend(request: HttpRequest) -> HttpResponse:
    """The "Stay signed in" button: restarts the idle limit in full, now (other requests do
    so at most once a minute: config/sessions.py). A session that has ended is not revived."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    request.session.modified = True
    return JsonResponse({"signed_in": True, "idle_seconds": request.session.get_expiry_age()})


@require_safe
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """Open to everyone, signed in or not, as the accessibility regulations require."""
    return render(request, "pages/accessibility.html")
