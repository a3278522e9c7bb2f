"""Single sign-on with each council's own OpenID Connect provider: the one home of its rules.

Built on mozilla-django-oidc, which reads one provider from settings: here the provider
(a `staff.IdentityProvider` row) is chosen per sign-in, by the button the person pressed,
and the library's own state, nonce and PKCE checks run unchanged.

- A person is matched to their staff record by the provider's stable claim (`sub`, or
  `oid` for Entra ID). E-mail links a record only the first time, only within the
  provider's authority and domains; the provider never creates users or staff records.
- An inactive staff record or user, and a platform superuser, never sign in this way.
- The app's own TOTP is not asked again when the provider did MFA (see `SecondFactor`).
- An authority may switch local passwords off (`LocalPasswordBackend`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django_otp.middleware import OTPMiddleware as BaseOTPMiddleware
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from staff.models import IdentityProvider, StaffMember
from staff.services import staff_member_sso_link

logger = logging.getLogger(__name__)

# The session remembers, for the user it signed in, that their provider did the MFA.
PROVIDER_SECOND_FACTOR_SESSION_KEY = "sso_second_factor_user"
# Which provider each sign-in in flight went to, by its state (several tabs may sign in).
PROVIDER_BY_STATE_SESSION_KEY = "sso_provider_by_state"
BACKEND_PATH = "staff.sso.ProviderBackend"
REQUIRED_ENDPOINTS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(Exception):
    """The provider cannot be used now: unreachable, misconfigured or its secret unset."""


class Refusal:
    """Why a person who signed in at their provider is not let in (for the log only)."""

    NO_SUBJECT = "the token has no subject claim"
    UNKNOWN = "no staff record matches"
    AMBIGUOUS = "several staff records match the e-mail"
    INACTIVE = "the staff record or account is inactive"
    SUPERUSER = "platform superusers sign in with a password"


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Reads ------------------------------------------------------------------------------------


def active_providers() -> QuerySet[IdentityProvider]:
    """The providers offered on the sign-in page."""
    return IdentityProvider.objects.filter(is_active=True).select_related("authority")


def provider_get(provider_id: object) -> IdentityProvider | None:
    if not isinstance(provider_id, int):
        return None
    return active_providers().filter(pk=provider_id).first()


def provider_endpoints(provider: IdentityProvider) -> dict[str, str]:
    """The provider's discovery document (cached): its issuer and endpoints."""
    url = provider.discovery_document_url
    key = f"sso-discovery:{provider.pk}:{url}"
    found = cache.get(key)
    if found is not None:
        return found
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"discovery failed: {type(exc).__name__}") from exc
    if not isinstance(document, dict) or not all(
        isinstance(document.get(name), str) for name in REQUIRED_ENDPOINTS
    ):
        raise ProviderUnavailable("the discovery document lacks an endpoint")
    cache.set(key, document, settings.SSO_DISCOVERY_CACHE_SECONDS)
    return document


def client_secret(provider: IdentityProvider) -> str:
    secret = os.environ.get(provider.client_secret_env, "")
    if not secret:
        raise ProviderUnavailable(f"{provider.client_secret_env} is not set")
    return secret


def _email_of(claims: dict[str, Any]) -> str:
    # Entra ID often sends no `email`; its `preferred_username` is the sign-in address.
    for name in ("email", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return ""


def staff_for_claims(
    *, provider: IdentityProvider, claims: dict[str, Any]
) -> tuple[StaffMember, str]:
    """The staff record these verified claims belong to, and its subject; or `Refused`.

    The stable claim decides. E-mail is only a first-time link: to a record of the
    provider's own authority, at one of its domains, that no provider has linked yet.
    """
    subject = claims.get(provider.subject_claim)
    if not isinstance(subject, str) or not subject:
        raise Refused(Refusal.NO_SUBJECT)
    staff = (
        StaffMember.objects.select_related("user")
        .filter(sso_provider=provider, sso_subject=subject)
        .first()
    )
    if staff is None:
        email = _email_of(claims)
        if not email or email.rpartition("@")[2] not in provider.domains:
            raise Refused(Refusal.UNKNOWN)
        candidates = list(
            StaffMember.objects.select_related("user").filter(
                authority_id=provider.authority_id, user__email__iexact=email, sso_subject=""
            )[:2]
        )
        if len(candidates) > 1:
            raise Refused(Refusal.AMBIGUOUS)
        if not candidates:
            raise Refused(Refusal.UNKNOWN)
        staff = candidates[0]
    if staff.authority_id != provider.authority_id:
        raise Refused(Refusal.UNKNOWN)
    if not (staff.is_active and staff.user.is_active):
        raise Refused(Refusal.INACTIVE)
    if staff.user.is_superuser:
        raise Refused(Refusal.SUPERUSER)
    return staff, subject


def provider_did_second_factor(*, provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    """Whether the provider's sign-in stands for the app's own second factor."""
    if provider.second_factor == IdentityProvider.SecondFactor.PROVIDER:
        return True
    if provider.second_factor == IdentityProvider.SecondFactor.APP:
        return False
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = amr.split()
    return "mfa" in amr


def password_providers(user: User) -> QuerySet[IdentityProvider]:
    """The providers that replace passwords for this user's authority (none: passwords ok)."""
    if user.is_superuser:
        # A platform superuser never signs in through a provider: the password stays.
        return IdentityProvider.objects.none()
    authority_id = (
        StaffMember.objects.filter(user_id=user.pk).values_list("authority_id", flat=True).first()
    )
    if authority_id is None:
        return IdentityProvider.objects.none()
    return active_providers().filter(authority_id=authority_id, local_passwords_allowed=False)


def local_password_allowed(user: User) -> bool:
    return not password_providers(user).exists()


def exempt_from_lockout(request: HttpRequest, credentials: dict | None = None) -> bool:
    """django-axes: the provider's callback is neither a password guess nor locked out."""
    return request.path == reverse(settings.OIDC_AUTHENTICATION_CALLBACK_URL)


def second_factor_done_by_provider(request: HttpRequest, user: AbstractBaseUser) -> bool:
    session = request.session
    return (
        session.get(PROVIDER_SECOND_FACTOR_SESSION_KEY) == user.pk
        # A later password sign-in in the same session has its own second factor to pass.
        and session.get(BACKEND_SESSION_KEY) == BACKEND_PATH
    )


# Authentication backends and middleware ---------------------------------------------------


class LocalPasswordBackend(ModelBackend):
    """Django's password check, except for staff whose authority switched passwords off."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        return user if isinstance(user, User) and local_password_allowed(user) else None


class ProviderBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, for the provider the callback view chose.

    Its signature takes no username or password, so Django never offers it a password
    sign-in; the callback view passes the request with `sso_provider` set on it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads one provider's endpoints from settings here; ours come per
        # request, in authenticate().
        self.UserModel = get_user_model()
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(
        self,
        request: HttpRequest | None,
        nonce: str | None = None,
        code_verifier: str | None = None,
    ) -> Any:
        provider = getattr(request, "sso_provider", None)
        if request is None or provider is None:
            return None
        endpoints = provider_endpoints(provider)
        self.provider = provider
        self.issuer = endpoints["issuer"]
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = endpoints.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = endpoints["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = client_secret(provider)
        return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks the signature, expiry and nonce; the issuer and audience too."""
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:
            audience = payload.get("aud")
            audiences = audience if isinstance(audience, list) else [audience]
            if payload.get("iss") != self.issuer or self.OIDC_RP_CLIENT_ID not in audiences:
                raise SuspiciousOperation("The ID token was issued by or for someone else.")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict[str, Any]:
        if not self.OIDC_OP_USER_ENDPOINT:
            return {}
        return super().get_userinfo(access_token, id_token, payload)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        """Match, never create: the verified ID token's claims decide over userinfo's."""
        claims = {**self.get_userinfo(access_token, id_token, payload), **payload}
        try:
            staff, subject = staff_for_claims(provider=self.provider, claims=claims)
        except Refused as refused:
            claimed = claims.get(self.provider.subject_claim)
            logger.warning(
                "Single sign-on refused: %s (provider %s, subject %s)",
                refused.reason,
                self.provider.pk,
                claimed if isinstance(claimed, str) else "-",
            )
            self.request.sso_refused = refused.reason
            return None
        if staff.sso_subject != subject or staff.sso_provider_id != self.provider.pk:
            staff_member_sso_link(staff=staff, provider=self.provider, subject=subject)
            logger.info("Single sign-on linked staff %s to provider %s", staff.pk, self.provider.pk)
        user = staff.user
        # Read back by the callback view (sso_views) from the user the library hands it;
        # User does not declare it.
        user.sso_second_factor = provider_did_second_factor(  # type: ignore[attr-defined]
            provider=self.provider, claims=claims
        )
        return user

    def get_user(self, user_id: Any) -> Any:
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class OTPMiddleware(BaseOTPMiddleware):
    """django-otp's, where `user.is_verified()` is also true after the provider did MFA.

    Every check of the second factor (the middleware, the menu, the code page) asks
    `is_verified()`, so they all agree.
    """

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        user = super()._verify_user_sync(request, user)
        if (
            user.is_authenticated
            and user.otp_device is None
            and second_factor_done_by_provider(request, user)
        ):
            user.is_verified = lambda: True
        return user
