"""Partner-agency contacts answer the one step addressed to them, with no council account
(docs/architecture.md §5).

The way in, each part kept only as a hash in the database:

1. A step addressed to a partner (Step.partner, or an Addressee with a partner) gets a
   PartnerAccess (`partner_accesses_open`, in the transaction that raises the step). Its
   link token is made from a random salt and the site's secret key
   (notifications/links.py), so the outbox can put it into the e-mail when it sends it,
   while the database holds only the salt and the token's hash.
2. The link's page sends a one-time code by e-mail on request (`partner_code_request`):
   six digits, kept as a keyed hash, valid CODE_LIFETIME, CODE_TRIES tries, one use; a
   new code replaces the last; requests are limited to one per CODE_INTERVAL and
   CODES_PER_HOUR an hour.
3. The right code (`partner_code_verify`, compared in constant time) starts a
   PartnerSession: a random cookie, path-limited to the partner pages, stored hashed,
   that opens this one step and nothing else. It is not a Django login: the staff pages
   see an anonymous visitor. It ends after SESSION_IDLE without a request, and the whole
   way in closes when the step closes (`access_refusal`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from escalations.models import Addressee, PartnerAccess, PartnerCode, PartnerSession, Step
from notifications import services as notifications
from notifications.links import partner_code, partner_code_hash, partner_link_token, token_hash
from staff.models import Partner

CODE_LIFETIME = timedelta(minutes=15)
CODE_TRIES = 5
CODE_INTERVAL = timedelta(seconds=60)
CODES_PER_HOUR = 5
SESSION_IDLE = timedelta(minutes=30)
# The cookie that carries a partner's session; only the partner pages are sent it.
SESSION_COOKIE = "partner_session"
SESSION_COOKIE_PATH = "/escalations/partner/"

CLOSED = (
    "This link has expired: the stage of the escalation it was sent for has closed, so it "
    "can no longer be opened. If you still need to reply, contact the person who sent it."
)


class PartnerRefused(Exception):
    """Why not, in plain words, for the partner's page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- opening the way in (with the step) -------------------------------------------------


def _partners_of(step: Step) -> list[tuple[Partner, Addressee | None]]:
    found: list[tuple[Partner, Addressee | None]] = []
    seen: set[int] = set()
    for addressee in step.addressees.filter(partner__isnull=False).select_related("partner"):
        assert addressee.partner is not None
        found.append((addressee.partner, addressee))
        seen.add(addressee.partner.pk)
    if step.partner is not None and step.partner.pk not in seen:
        found.insert(0, (step.partner, None))
    return found


def partner_accesses_open(*, step: Step, now: datetime) -> list[PartnerAccess]:
    """A way in for every partner the step is addressed to (safe to call again)."""
    accesses = []
    for partner, addressee in _partners_of(step):
        access = PartnerAccess.objects.filter(step=step, partner=partner).first()
        if access is None:
            salt = secrets.token_urlsafe(32)
            access = PartnerAccess.objects.create(
                step=step,
                partner=partner,
                addressee=addressee,
                salt=salt,
                token_hash=token_hash(partner_link_token(salt)),
                created_at=now,
            )
        accesses.append(access)
    return accesses


def partner_access_readdressed(
    *, step: Step, partner: Partner, addressee: Addressee | None, now: datetime
) -> PartnerAccess:
    """A fresh way in for a partner the open step (or, with `addressee`, their part of a
    stage addressed to several people) has just been passed to (services.step_readdress),
    made in its transaction, before the e-mail that carries the link.

    A partner asked on this step before (then passed over, now asked again) gets a new
    link too: their access (one per step and partner) takes a new salt, so the old link
    no longer opens anything, and its unused codes and open sessions end with it. The link
    of whoever the step leaves closes by itself (`access_refusal`).
    """
    salt = secrets.token_urlsafe(32)
    access = PartnerAccess.objects.select_for_update().filter(step=step, partner=partner).first()
    if access is None:
        return PartnerAccess.objects.create(
            step=step,
            partner=partner,
            addressee=addressee,
            salt=salt,
            token_hash=token_hash(partner_link_token(salt)),
            created_at=now,
        )
    access.salt, access.token_hash = salt, token_hash(partner_link_token(salt))
    access.addressee, access.created_at = addressee, now
    access.save(update_fields=["salt", "token_hash", "addressee", "created_at"])
    # Neither is history-tracked: plain UPDATEs, as partner_session_end.
    PartnerCode.objects.filter(access=access, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    PartnerSession.objects.filter(access=access, ended_at__isnull=True).update(ended_at=now)
    return access


# --- reads ------------------------------------------------------------------------------


def access_for_token(token: str) -> PartnerAccess | None:
    """The access a link's token opens, or None (never saying why: a made-up token and an
    old one look the same)."""
    if not token or len(token) > 100:
        return None
    return (
        PartnerAccess.objects.select_related(
            "partner", "step__escalation", "addressee", "step__stage"
        )
        .filter(token_hash=token_hash(token))
        .first()
    )


def access_refusal(access: PartnerAccess) -> str | None:
    """Why the link no longer opens anything; None while its step is open."""
    step = access.step
    if not step.is_open or not step.escalation.is_open or not access.partner.is_active:
        return CLOSED
    if access.addressee_id is None and step.partner_id != access.partner_id:
        # Addressed to someone else since (a change of addressee).
        return CLOSED
    if access.addressee is not None and access.addressee.partner_id != access.partner_id:
        # Their part of a stage addressed to several people went to someone else since
        # (services.step_readdress changes the addressee's row).
        return CLOSED
    return None


def session_for_token(token: str | None, *, now: datetime) -> PartnerSession | None:
    """The live session a cookie names, its idle time restarted; None if there is none."""
    if not token or len(token) > 100:
        return None
    session = (
        PartnerSession.objects.select_related(
            "access__partner", "access__step__escalation", "access__addressee"
        )
        .filter(token_hash=token_hash(token), ended_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if session is None:
        return None
    # Not history-tracked: a plain UPDATE restarts the idle limit.
    PartnerSession.objects.filter(pk=session.pk).update(expires_at=now + SESSION_IDLE)
    return session


def mask_email(address: str) -> str:
    """j•••@police.example: enough for the partner to know which inbox to look in."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


# --- codes and sessions -----------------------------------------------------------------


def partner_code_request(*, access: PartnerAccess, now: datetime) -> PartnerCode:
    """A new one-time code, e-mailed through the outbox; any earlier one stops working."""
    refusal = access_refusal(access)
    if refusal is not None:
        raise PartnerRefused(refusal)
    with transaction.atomic():
        # Locked, so two requests at once cannot both pass the limits below.
        PartnerAccess.objects.select_for_update().get(pk=access.pk)
        codes = PartnerCode.objects.filter(access=access)
        last = codes.order_by("-sequence").first()
        if last is not None and now - last.created_at < CODE_INTERVAL:
            raise PartnerRefused(
                "A code was sent less than a minute ago. Check your e-mail (and its junk "
                "folder), or wait a minute before asking for another."
            )
        if codes.filter(created_at__gt=now - timedelta(hours=1)).count() >= CODES_PER_HOUR:
            raise PartnerRefused(
                f"{CODES_PER_HOUR} codes have been sent in the last hour, the most we send. "
                "Use the latest one, or try again later."
            )
        salt = secrets.token_urlsafe(32)
        code = PartnerCode.objects.create(
            access=access,
            sequence=(last.sequence + 1) if last is not None else 0,
            salt=salt,
            code_hash=partner_code_hash(salt, partner_code(salt)),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        notifications.notify_partner_code(code=code, now=now)
    return code


def partner_code_verify(*, access: PartnerAccess, code: str, now: datetime) -> str:
    """Check a code typed in; the new session's cookie value if right, else PartnerRefused.

    Only the latest code counts. Every try at it is counted before it is checked (and
    kept, right or wrong), so at most CODE_TRIES guesses are ever compared.
    """
    refusal = access_refusal(access)
    if refusal is not None:
        raise PartnerRefused(refusal)
    entered = re.sub(r"[\s-]", "", code or "")
    if not re.fullmatch(r"\d{6}", entered):
        raise PartnerRefused("Enter the 6-digit code from the e-mail.")
    with transaction.atomic():
        latest = (
            PartnerCode.objects.select_for_update()
            .filter(access=access)
            .order_by("-sequence")
            .first()
        )
        if latest is None or latest.used_at is not None:
            raise PartnerRefused("Ask for a code first: press “Send me a code”.")
        if latest.expires_at <= now:
            raise PartnerRefused("That code has expired. Ask for a new one.")
        if latest.tries >= CODE_TRIES:
            raise PartnerRefused("That code was tried too many times. Ask for a new one.")
        latest.tries += 1
        right = hmac.compare_digest(partner_code_hash(latest.salt, entered), latest.code_hash)
        if right:
            latest.used_at = now
        latest.save(update_fields=["tries", "used_at"])
        if right:
            session_token = secrets.token_urlsafe(32)
            PartnerSession.objects.create(
                access=access,
                token_hash=token_hash(session_token),
                created_at=now,
                expires_at=now + SESSION_IDLE,
            )
            return session_token
    left = CODE_TRIES - latest.tries
    if left <= 0:
        raise PartnerRefused(
            "That code is not right, and it has now been tried too many times. Ask for a new one."
        )
    raise PartnerRefused(
        f"That code is not right. Check the latest e-mail and try again "
        f"({left} {'try' if left == 1 else 'tries'} left)."
    )


def partner_session_end(*, session: PartnerSession, now: datetime) -> None:
    PartnerSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=now)
