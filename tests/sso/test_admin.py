"""Identity providers in Django admin: who may set what (listing scope: tests/admin)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from staff.models import IdentityProvider
from staff.services import authority_admin_grant
from tests.staff.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rutland_admin(staff_of) -> Client:
    user = staff_of("rutland", "service-manager").user
    authority_admin_grant(user=user)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def add_form(ladders, **overrides: str) -> dict[str, str]:
    authority = next(p.authority for p in ladders.values() if p.authority.slug == "rutland")
    return {
        "authority": str(authority.pk),
        "display_name": "Rutland County Council",
        "discovery_url": "https://login.rutland.example/",
        "client_id": "escalations",
        "client_secret_env": "SSO_CLIENT_SECRET_RUTLAND",
        "scopes": "openid email profile",
        "subject_claim": "sub",
        "email_domains": "rutland.gov.uk",
        "second_factor": "amr",
        "local_passwords_allowed": "on",
        "is_active": "on",
        **overrides,
    }


def test_a_platform_administrator_adds_a_councils_provider(superuser, ladders):
    response = superuser.post(reverse("admin:staff_identityprovider_add"), add_form(ladders))

    assert response.status_code == 302
    assert IdentityProvider.objects.get().client_secret_env == "SSO_CLIENT_SECRET_RUTLAND"


def test_any_other_environment_variable_is_refused_as_the_secret(superuser, ladders):
    before = IdentityProvider.objects.count()
    response = superuser.post(
        reverse("admin:staff_identityprovider_add"),
        add_form(ladders, client_secret_env="DJANGO_SECRET_KEY"),
    )

    assert response.status_code == 200
    assert "Name an environment variable starting SSO_CLIENT_SECRET_" in response.content.decode()
    # Nothing saved: counted, as a provider left by an earlier test on a parallel worker
    # once made the table non-empty (tests/sso: the refused form itself wrote nothing).
    assert IdentityProvider.objects.count() == before


def test_a_plain_http_provider_is_refused_where_http_providers_are_not_allowed(
    superuser, ladders, settings
):
    settings.SSO_ALLOW_HTTP_PROVIDERS = False

    before = IdentityProvider.objects.count()
    response = superuser.post(
        reverse("admin:staff_identityprovider_add"),
        add_form(ladders, discovery_url="http://login.rutland.example/"),
    )

    assert response.status_code == 200
    assert "Enter the provider&#x27;s https:// address." in response.content.decode()
    assert IdentityProvider.objects.count() == before  # nothing saved (counted: above)


def test_an_authority_administrator_cannot_change_which_secret_is_sent(rutland_admin, ladders):
    authority = next(p.authority for p in ladders.values() if p.authority.slug == "rutland")
    provider = IdentityProvider.objects.create(
        authority=authority,
        display_name="Rutland County Council",
        discovery_url="https://login.rutland.example/",
        client_id="escalations",
        client_secret_env="SSO_CLIENT_SECRET_RUTLAND",
        email_domains="rutland.gov.uk",
    )
    form = add_form(ladders, client_secret_env="SSO_CLIENT_SECRET_OTHER_COUNCIL")
    del form["local_passwords_allowed"]  # unticked

    response = rutland_admin.post(
        reverse("admin:staff_identityprovider_change", args=[provider.pk]), form
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.client_secret_env == "SSO_CLIENT_SECRET_RUTLAND"
    assert provider.local_passwords_allowed is False
