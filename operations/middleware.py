"""One JSON log line per request: its id, the route, the status, the time, the user's id."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from operations.log_format import bind_request, unbind_request, user_id_of

logger = logging.getLogger("operations.requests")

# A proxy's own id is kept so its log and ours can be matched; anything else is replaced.
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if INCOMING_ID.match(incoming) else uuid.uuid4().hex
        # Read back by the log filter (operations/log_format.py); HttpRequest does not declare it.
        request.request_id = request_id  # type: ignore[attr-defined]
        tokens = bind_request(request, request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            match = request.resolver_match
            # The route pattern, not the path: paths carry signed link tokens, and the
            # query string can carry a searched name.
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "route": match.route if match else "",
                    "view": match.view_name if match else "",
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": user_id_of(request, resolve=True),
                },
            )
            response["X-Request-ID"] = request_id
            return response
        finally:
            unbind_request(tokens)
