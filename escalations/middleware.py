"""Request middleware of the escalations app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from escalations.loading import one_ladder_read


class OneLadderReadMiddleware:
    """A GET or HEAD changes no ladder: the ladders it applies are looked up once for the
    whole request (escalations.loading.one_ladder_read), not once for each part of the
    page that asks. Other requests look them up each time, so a change they make is seen
    by what they do next."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        with one_ladder_read():
            return self.get_response(request)
