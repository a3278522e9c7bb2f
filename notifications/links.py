"""Signed links to one step's response form (the token carries only the step's number), and
partner-agency contacts' links and one-time codes."""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

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


# --- partner-agency links and codes ----------------------------------------------------
#
# A partner's link token and one-time codes are made from a random salt kept on their row
# (escalations.PartnerAccess / PartnerCode) and the site's secret key, so the outbox can
# put them into an e-mail when it sends it while the database holds neither: only their
# hashes (to find the row, to check a code). Someone who reads the database alone can
# neither open a link nor work out a code.

PARTNER_LINK_SALT = "escalations.partner-link"
PARTNER_CODE_SALT = "escalations.partner-code"
CODE_DIGITS = 6


def partner_link_token(salt: str) -> str:
    """The token in a partner's link (43 URL-safe characters, 256 bits)."""
    digest = salted_hmac(PARTNER_LINK_SALT, salt, algorithm="sha256").digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    """How a link or session token is stored: its SHA-256 (the token itself is random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def partner_link_url(salt: str) -> str:
    path = reverse("escalations:partner_link", args=[partner_link_token(salt)])
    return f"{settings.SITE_BASE_URL}{path}"


def partner_code(salt: str) -> str:
    """The six digits of the code made from `salt` (what the e-mail says)."""
    digest = salted_hmac(PARTNER_CODE_SALT, f"code:{salt}", algorithm="sha256").digest()
    # 64 bits reduced mod 10^6: the bias is below one in 10^13.
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def partner_code_hash(salt: str, code: str) -> str:
    """The keyed hash a code is kept as: a hash of six digits alone could be reversed by
    trying all million, so the secret key is part of it."""
    return salted_hmac(PARTNER_CODE_SALT, f"check:{salt}:{code}", algorithm="sha256").hexdigest()
