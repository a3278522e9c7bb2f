"""Single sign-on in the browser: Chromium, the live app and the real provider process.

The provider and its fixtures are tests/sso's; they are imported here so that these tests
share this folder's one Chromium.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session

from tests.sso import fixtures as sso
from tests.sso.fixtures import PROVIDER_PASSWORD

# tests/sso's fixtures, by the module-level names pytest finds fixtures under.
oidc_provider = sso.oidc_provider
identity_provider = sso.identity_provider
staff_for = sso.staff_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app(site, oidc_provider, identity_provider) -> str:
    """The live app, registered with the provider as its redirect address."""
    oidc_provider.allow_redirect(f"{site}/accounts/sso/callback/")
    return site


def sign_in_at_provider(page: Any, username: str) -> None:
    page.get_by_label("Council username").fill(username)
    page.get_by_label("Council password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def nobody_signed_in() -> bool:
    return not any(SESSION_KEY in s.get_decoded() for s in Session.objects.all())


def test_a_person_signs_in_through_their_councils_provider_and_lands_on_my_escalations(
    app, settings, staff_for, new_context
):
    settings.REQUIRE_SECOND_FACTOR = True  # the provider's MFA stands for it (amr)
    staff_for("pat")
    page = new_context().new_page()

    page.goto(f"{app}/escalations/")
    page.get_by_role("button", name="Sign in with Rutland test council").click()
    sign_in_at_provider(page, "pat")

    assert page.url == f"{app}/escalations/"
    assert "My escalations" in page.locator("h1").inner_text()


def test_a_person_the_council_has_not_given_access_gets_the_plain_page(app, new_context):
    page = new_context().new_page()

    page.goto(f"{app}/accounts/login/")
    page.get_by_role("button", name="Sign in with Rutland test council").click()
    sign_in_at_provider(page, "lee")

    assert page.locator("h1").inner_text() == "Your council has not given you access"
    assert nobody_signed_in()


def _tampered(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[name] = "tampered-" + query[name]
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize("name", ["state", "nonce"])
def test_a_tampered_state_or_nonce_fails_safely(app, staff_for, new_context, name):
    staff_for("pat")
    page = new_context().new_page()

    def tamper(route: Any) -> None:
        # Someone in the middle changes where the app sends the browser at the provider.
        response = route.fetch(max_redirects=0)
        location = _tampered(response.headers["location"], name)
        route.fulfill(response=response, headers={**response.headers, "location": location})

    page.route(re.compile(r"/accounts/sso/\d+/"), tamper)

    page.goto(f"{app}/accounts/login/")
    page.get_by_role("button", name="Sign in with Rutland test council").click()
    sign_in_at_provider(page, "pat")

    assert page.locator("h1").inner_text() == "You have not been signed in"
    assert nobody_signed_in()
    page.goto(f"{app}/escalations/")
    assert "/accounts/login/" in page.url
