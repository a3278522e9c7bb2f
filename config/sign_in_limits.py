"""Lock-out after failed sign-ins (django-axes), counted two ways with two limits.

Per account *and* address: AXES_FAILURE_LIMIT wrong passwords for one username from one
address lock that pair only, so nobody elsewhere can lock someone out (not even the only
superuser) by typing their username. Per address across all accounts: a much higher
limit, LOGIN_ADDRESS_FAILURE_LIMIT, stops one address guessing at many accounts while a
council office, where everyone signs in from one shared address, can still make
ordinary mistakes. Axes counts every parameter set against one limit, hence this handler.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address of whoever is signing in, not of our own proxy in front of gunicorn.

    Behind TRUSTED_PROXY_COUNT proxies, each appending to X-Forwarded-For, the entry that
    many places from the end was written by our outermost proxy; anything before it came
    from the client and could be made up.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


def _axes_address(request: HttpRequest) -> str | None:
    # django-axes puts the client's address (client_address above) on the request before
    # it asks the handler; HttpRequest does not declare the field.
    return request.axes_ip_address  # type: ignore[attr-defined]


class AccountAndAddressHandler(AxesDatabaseHandler):
    def _recent(self, request: HttpRequest, **lookup: str | None) -> QuerySet[AccessAttempt]:
        attempts = AccessAttempt.objects.filter(**lookup)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts

    def _failures(self, request: HttpRequest, **lookup: str | None) -> int:
        total = self._recent(request, **lookup).aggregate(n=Sum("failures_since_start"))["n"]
        return total or 0

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Failures for this username from this address; an address over its own limit
        counts as at the account limit for every username, so it is locked out."""
        address = _axes_address(request)
        username = get_client_username(request, credentials)
        failures = self._failures(request, username=username, ip_address=address)
        if self._failures(request, ip_address=address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """A right password clears that account's failures from that address, not the
        address's count for other accounts, or signing in to one's own account would reset
        the throttle on guessing at everyone else's."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=_axes_address(request)
        ).delete()
        return count
