"""Signed links to one step's response form. The token carries only the step's number."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "escalations.step-link"
MAX_AGE_SECONDS = 120 * 24 * 3600


def step_link_token(step_pk: int) -> str:
    return signing.dumps(step_pk, salt=SALT)


def step_pk_from_token(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def step_link_url(step_pk: int) -> str:
    """The absolute link for e-mails, from the configured base URL (never the request's Host)."""
    path = reverse("escalations:step_link", args=[step_link_token(step_pk)])
    return f"{settings.SITE_BASE_URL}{path}"
