"""Two guards around every request: bodies too large to be real are refused unread, and
nothing the site sends (except its static files) is kept by a browser or a proxy."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


class RequestBodyLimitMiddleware:
    """Refuse a request whose Content-Length is over REQUEST_BODY_MAX_BYTES before any of
    the body is read. Django's own limits apply only while it reads (and never to files),
    so without this a 200 MB body is read in full before the 10 MB refusal. A body with no
    Content-Length is read as empty by Django, so it cannot get round this."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length > limit:
            # Rendered without the request: nothing about the user has been loaded yet,
            # and the plain page needs none of it.
            page = render_to_string(
                "413.html",
                {"limit_mb": _mb(limit), "file_mb": _mb(settings.ATTACHMENT_MAX_BYTES)},
            )
            return HttpResponse(page, status=413)
        return self.get_response(request)


class NoStoreMiddleware:
    """Cache-Control: no-store on every response but static files. Council PCs are shared
    and case data must not stay in a browser's cache or a proxy's; deciding page by page
    which responses hold case data would miss one (an error page, an admin view, a CSV),
    so the rule is every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix):
            add_never_cache_headers(response)
        return response
