"""Sign-in pages: the password form with the councils' buttons, and single sign-on.

The two single sign-on views are mozilla-django-oidc's, told which provider to use; the
rules are in staff/sso.py.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from staff import sso

logger = logging.getLogger(__name__)

NO_ACCESS_TEMPLATE = "registration/sso_no_access.html"
FAILED_TEMPLATE = "registration/sso_failed.html"
UNAVAILABLE = (
    "Your council's sign-in service cannot be reached just now. Try again in a few "
    "minutes; if it keeps happening, contact your council's IT service desk."
)
NOT_FINISHED = (
    "Signing in with your council's account did not finish, or the sign-in link had "
    "expired or was already used. You have not been signed in. Start again from the "
    "sign-in page."
)


class SignInForm(AuthenticationForm):
    """Django's form; a person whose council switched passwords off is sent to its button."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            user = self._password_user()
            names = [p.display_name for p in sso.password_providers(user)] if user else []
            if names:
                raise forms.ValidationError(
                    "Your council signs you in with its own account, not a password here. "
                    f"Use the “Sign in with {names[0]}” button.",
                    code="use_provider",
                ) from None
            raise

    def _password_user(self) -> Any:
        """The account these credentials are right for (only said when they are right)."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is not None and user.is_active and password and user.check_password(password):
            return user
        return None


class SignInView(LoginView):
    authentication_form = SignInForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(providers=sso.active_providers(), **kwargs)


def _failed(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, FAILED_TEMPLATE, {"message": message}, status=status)


class ProviderSignInStart(OIDCAuthenticationRequestView):
    """Send the person to the provider of the button they pressed."""

    def __init__(self, **kwargs: Any) -> None:
        # The library reads one provider from settings here; ours is chosen in get().
        View.__init__(self, **kwargs)
        self.scopes = "openid email"

    def get_settings(self, attr: str, *args: Any) -> Any:
        if attr == "OIDC_RP_SCOPES":
            return self.scopes
        return super().get_settings(attr, *args)

    def get(self, request: HttpRequest, provider_id: int) -> HttpResponse:
        provider = sso.provider_get(provider_id)
        if provider is None:
            return _failed(request, NOT_FINISHED, status=404)
        try:
            endpoints = sso.provider_endpoints(provider)
        except sso.ProviderUnavailable as exc:
            logger.error("Single sign-on provider %s unavailable: %s", provider.pk, exc)
            return _failed(request, UNAVAILABLE, status=503)
        self.OIDC_OP_AUTH_ENDPOINT = endpoints["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.scopes = provider.scopes
        response = super().get(request)
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        in_flight = request.session.get(sso.PROVIDER_BY_STATE_SESSION_KEY, {})
        # Only the states the library still keeps (it drops the oldest past its limit).
        in_flight = {s: p for s, p in in_flight.items() if s in request.session["oidc_states"]}
        in_flight[state] = provider.pk
        request.session[sso.PROVIDER_BY_STATE_SESSION_KEY] = in_flight
        return response


class ProviderSignInCallback(OIDCAuthenticationCallbackView):
    """The provider sends the person back here; the library checks state and nonce."""

    def get(self, request: HttpRequest) -> HttpResponse:
        in_flight = request.session.get(sso.PROVIDER_BY_STATE_SESSION_KEY, {})
        # The library hands the backend only the request, so the provider rides on it
        # (read back in ProviderBackend.authenticate); HttpRequest declares no such field.
        request.sso_provider = sso.provider_get(  # type: ignore[attr-defined]
            in_flight.get(request.GET.get("state", ""))
        )
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            logger.warning("Single sign-on failed: %s", exc)
            return _failed(request, NOT_FINISHED, status=400)
        except (sso.ProviderUnavailable, requests.RequestException) as exc:
            provider = request.sso_provider  # type: ignore[attr-defined]  # set above
            logger.error(
                "Single sign-on provider %s unavailable: %s",
                getattr(provider, "pk", "-"),
                type(exc).__name__,
            )
            return _failed(request, UNAVAILABLE, status=503)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        if getattr(self.user, "sso_second_factor", False):
            self.request.session[sso.PROVIDER_SECOND_FACTOR_SESSION_KEY] = self.user.pk
        return response

    def login_failure(self) -> HttpResponse:
        if getattr(self.request, "sso_refused", None):
            return render(self.request, NO_ACCESS_TEMPLATE, status=403)
        return _failed(self.request, NOT_FINISHED, status=400)
